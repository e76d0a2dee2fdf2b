#!/usr/bin/env python3
"""Epoch time of the Desire BP authors' PyTorch code against `onespike train
--method desire`, on the same machine, one after the other, for the same
network and settings (issue 17: "epoch time against the authors' PyTorch
code on the same machine").

The authors' side is their own code, imported, not rewritten: the classes
`SnnModel` and `SnnOptim` of `desire_pytorch.py` from a clone of
`DanielGerlinghoff/desire-backpropagation` (give its folder with
`--authors`), with the hyperparameters their command line defaults to for
MNIST (784-1600-800-10, 20 steps, lr 1e-5, hidden dropout 0.3, desire
thresholds 0.05 / 0.30, error margin 4), driven the way their training loop
drives them: per image `model(image)`, `model.backward(label)`,
`optim.step()`, in train mode, on the CPU. Images are MNIST training images
read from the IDX files as `transforms.ToTensor()` gives them (pixel / 255,
shape 1x28x28). It times N images after 2 warm-up images.

onespike side: `onespike train --recipe recipes/mnist-desire.toml --epochs 1
--limit-train M` (the same network and settings; one image per update), the
time counted is the epoch's training loop (`train_seconds` of the log), not
the end-of-epoch evaluation.

Both are printed per image and scaled to a 60 000-image epoch (the authors'
training split), with the ratio authors / onespike (> 1: onespike is
faster).

Opt-in dependencies, never installed or run by CI:

    git clone https://github.com/DanielGerlinghoff/desire-backpropagation /tmp/desire-bp
    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch torchvision numpy   # CPU wheels will do

Usage (from the repository root, after `cargo build --release --bin onespike`):

    /tmp/torchenv/bin/python experiments/train/desire/pytorch_epoch.py \
        --authors /tmp/desire-bp [--onespike target/release/onespike] \
        [--data ../shared/data/mnist] [--images 100] [--onespike-images 5000] \
        [--threads 2]

`--skip-onespike` / `--skip-authors` run one side only.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import types

EPOCH_IMAGES = 60_000


def read_idx(path):
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def authors_side(args):
    import torch

    sys.path.insert(0, os.path.abspath(args.authors))
    import desire_pytorch as dp  # the authors' module (its main is guarded)

    torch.set_num_threads(args.threads)
    # Their command line's defaults for `--dataset mnist`, as their main
    # block turns them into the `hyp` object its classes read.
    hyp = types.SimpleNamespace(
        tsteps=20,
        epochs=1,
        lr={"conv": 1e-6, "lin": 1e-5},
        lr_decay=4e-2,
        dropout={"in": 0.0, "hid": 0.3},
        mempot_thres=1.0,
        mempot_decay=2,
        desire_thres={"conv": 0.20, "lin": 0.05, "out": 0.30},
        error_margin=4,
        gpu_ncpu=False,
        device=torch.device("cpu"),
        config=(("I", 1, 28), ("F",), ("L", 1600), ("L", 800), ("L", 10)),
    )
    torch.manual_seed(1)
    model = dp.SnnModel(hyp)
    optim = dp.SnnOptim(model, hyp)
    model.train()
    optim.scheduler(0)
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))

    def one(k):
        image = torch.tensor(images[k], dtype=torch.float32).div(255).unsqueeze(0)
        label = torch.tensor(int(labels[k]))
        model(image)
        model.backward(label)
        optim.step()

    with torch.no_grad():
        for k in range(2):
            one(k)
        t0 = time.perf_counter()
        for k in range(2, 2 + args.images):
            one(k)
        dt = time.perf_counter() - t0
    return dt / args.images


def onespike_side(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.json")
        cmd = [
            args.onespike,
            "train",
            "--recipe",
            "recipes/mnist-desire.toml",
            "--data",
            args.data,
            "--epochs",
            "1",
            "--limit-train",
            str(args.onespike_images),
            "-o",
            out,
        ]
        env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        with open(out + ".log.json") as f:
            log = json.load(f)
    epoch = log["epochs"][0]
    return epoch["train_seconds"] / args.onespike_images


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--authors", help="a clone of DanielGerlinghoff/desire-backpropagation")
    p.add_argument("--onespike", default="target/release/onespike")
    p.add_argument("--data", default="../shared/data/mnist")
    p.add_argument("--images", type=int, default=100, help="images timed on the authors' side")
    p.add_argument("--onespike-images", type=int, default=5000, help="images of onespike's epoch")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-onespike", action="store_true")
    p.add_argument("--skip-authors", action="store_true")
    args = p.parse_args()
    if not args.skip_authors and not args.authors:
        p.error("--authors <clone of desire-backpropagation> is needed (or --skip-authors)")
    rows = []
    if not args.skip_authors:
        a = authors_side(args)
        rows.append(("authors' PyTorch (desire_pytorch.py)", a))
        print(f"authors' code: {1e3 * a:.2f} ms/image, {a * EPOCH_IMAGES / 60:.1f} min/epoch "
              f"({args.images} images, {args.threads} threads)", flush=True)
    if not args.skip_onespike:
        o = onespike_side(args)
        rows.append(("onespike", o))
        print(f"onespike: {1e3 * o:.3f} ms/image, {o * EPOCH_IMAGES / 60:.2f} min/epoch "
              f"({args.onespike_images} images, {args.threads} threads)", flush=True)
    if len(rows) == 2:
        print(f"ratio authors / onespike: {rows[0][1] / rows[1][1]:.1f}x")


if __name__ == "__main__":
    main()
