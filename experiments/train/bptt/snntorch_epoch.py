#!/usr/bin/env python3
"""Epoch time of snnTorch 1.0 against `onespike train --method bptt`, on the
same machine, one after the other, for the same network, steps and batch
size (issue 13: "faster than snnTorch 1.0 ... prints the ratio").

The network is `recipes/mnist-bptt.toml`'s: 784-400-10 dense layers without
bias, leaky neurons with decay 0.75 (`v-shift = 2`), threshold 1, reset by
subtraction, an instant synaptic current (`i-shift = 0`), the fast-sigmoid
surrogate of slope 25, rate-coded input over 20 of T = 22 steps, batch 32,
Adam, cross-entropy of the output spike counts.

snnTorch side (CPU, `torch.set_num_threads(THREADS)`, 2 by default): two
`nn.Linear(..., bias=False)` layers, `snn.Leaky(beta=0.75,
reset_mechanism="subtract", spike_grad=surrogate.fast_sigmoid(slope=25))`,
input from `spikegen.rate` over 20 steps followed by 2 empty steps,
`SF.ce_count_loss()`, `torch.optim.Adam(lr=5e-4)`. It trains on N batches of
MNIST training images after 2 warm-up batches; the time counted is the
forward, backward and optimizer step of those N batches (the spike
generation of each batch is timed apart and printed, not counted: our side
encodes its images once before the epoch).

onespike side: `onespike train --recipe recipes/mnist-bptt.toml
--limit-train 32N --epochs 1 --val-images 1000` (one epoch, no
quantization-aware epoch), rayon over the same number of cores; the time
counted is the epoch's mini-batch loop (`train_seconds` of the log:
forward, backward, Adam steps), not the end-of-epoch evaluation.

Both are printed per batch, scaled to a 55 000-image epoch (the recipe's),
with the ratio snnTorch / onespike (> 1: onespike is faster).

Opt-in dependencies, never installed or run by CI:

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch snntorch numpy   # CPU wheels will do

Usage (from the repository root, after `cargo build --release --bin onespike`):

    /tmp/torchenv/bin/python experiments/train/bptt/snntorch_epoch.py \
        [--onespike target/release/onespike] [--data ../shared/data/mnist] \
        [--batches 100] [--threads 2]

`ONESPIKE`, `MNIST_DIR`, `BATCHES` and `THREADS` in the environment set the
same defaults. `--skip-onespike` / `--skip-snntorch` run one side only.

On a machine shared with other jobs, run it with `--threads 1` too: torch's
threads wait on each other when a core is taken, which inflates the
two-thread ratio (docs/training.md, "Speed", has both).
"""

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time

EPOCH_IMAGES = 55_000
BATCH = 32
T = 22
INPUT_STEPS = 20
LR = 5e-4


def idx(path):
    import numpy as np

    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(data_dir, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    sys.exit(f"no {stem}[.gz] in {data_dir}")


def snntorch_time(data_dir, batches, threads, seed):
    import numpy as np
    import snntorch as snn
    import snntorch.functional as SF
    import torch
    from snntorch import spikegen, surrogate
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    images = idx(find(data_dir, "train-images-idx3-ubyte"))
    labels = idx(find(data_dir, "train-labels-idx1-ubyte"))
    n = (batches + 2) * BATCH
    x_all = torch.from_numpy(images[:n].reshape(n, -1).astype(np.float32) / 255.0)
    y_all = torch.from_numpy(labels[:n].astype(np.int64))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            grad = surrogate.fast_sigmoid(slope=25)
            self.fc1 = nn.Linear(784, 400, bias=False)
            self.lif1 = snn.Leaky(beta=0.75, threshold=1.0, reset_mechanism="subtract", spike_grad=grad)
            self.fc2 = nn.Linear(400, 10, bias=False)
            self.lif2 = snn.Leaky(beta=0.75, threshold=1.0, reset_mechanism="subtract", spike_grad=grad)

        def forward(self, x):  # x: (T, batch, 784)
            mem1 = self.lif1.init_leaky()
            mem2 = self.lif2.init_leaky()
            out = []
            for t in range(x.shape[0]):
                spk1, mem1 = self.lif1(self.fc1(x[t]), mem1)
                spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
                out.append(spk2)
            return torch.stack(out)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = SF.ce_count_loss()
    pad = torch.zeros(T - INPUT_STEPS, BATCH, 784)
    t_train = t_encode = 0.0
    for b in range(batches + 2):
        t0 = time.perf_counter()
        x = x_all[b * BATCH : (b + 1) * BATCH]
        spikes = torch.cat([spikegen.rate(x, num_steps=INPUT_STEPS), pad])
        y = y_all[b * BATCH : (b + 1) * BATCH]
        t1 = time.perf_counter()
        out = net(spikes)
        loss = loss_fn(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        if b >= 2:  # two warm-up batches
            t_encode += t1 - t0
            t_train += t2 - t1
    return t_train, t_encode


def onespike_time(binary, recipe, data_dir, batches, threads):
    with tempfile.TemporaryDirectory() as d:
        cmd = [
            binary, "train", "--recipe", recipe, "--data", data_dir,
            "--limit-train", str(batches * BATCH), "--epochs", "1",
            "--val-images", "1000", "-o", os.path.join(d, "m.json"),
        ]
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        print("+", " ".join(cmd), flush=True)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"onespike failed:\n{out.stdout}\n{out.stderr}")
        m = re.search(r"\(training ([0-9.]+) s\)", out.stdout)
        if not m:
            sys.exit(f"no training time in onespike's output:\n{out.stdout}")
        return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onespike", default=os.environ.get("ONESPIKE", "target/release/onespike"))
    ap.add_argument("--recipe", default="recipes/mnist-bptt.toml")
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    ap.add_argument("--batches", type=int, default=int(os.environ.get("BATCHES", "100")))
    ap.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-onespike", action="store_true")
    ap.add_argument("--skip-snntorch", action="store_true")
    a = ap.parse_args()
    per_epoch = EPOCH_IMAGES / (a.batches * BATCH)
    print(f"784-400-10, T = {T}, batch {BATCH}, {a.batches} batches, {a.threads} threads")
    ts = to = None
    if not a.skip_snntorch:
        import snntorch
        import torch

        ts, te = snntorch_time(a.data, a.batches, a.threads, a.seed)
        print(
            f"snnTorch {snntorch.__version__} (torch {torch.__version__}): {ts:.2f} s training "
            f"({1e3 * ts / a.batches:.1f} ms/batch; spike generation {te:.2f} s apart), "
            f"{ts * per_epoch:.0f} s per {EPOCH_IMAGES}-image epoch",
            flush=True,
        )
    if not a.skip_onespike:
        to = onespike_time(a.onespike, a.recipe, a.data, a.batches, a.threads)
        print(
            f"onespike: {to:.2f} s training ({1e3 * to / a.batches:.1f} ms/batch), "
            f"{to * per_epoch:.0f} s per {EPOCH_IMAGES}-image epoch",
            flush=True,
        )
    if ts is not None and to is not None:
        print(f"ratio snnTorch / onespike: {ts / to:.2f}")


if __name__ == "__main__":
    main()
