"""Opt-in check that snnTorch imports what `onespike export --nir` writes,
and what it computes with it. Needs PyTorch and snnTorch (a multi-GB
install, never a CI step): pip install torch snntorch nirtorch nir==1.0.8

Usage: python3 snntorch_import.py NET.nir MNIST_DIR STEPS [IMAGES]

Imports NET.nir with snntorch.import_nir.import_from_nir, runs it on the
first IMAGES (default 500) MNIST test images with SPEC §2b's integer rate
encoder over STEPS steps, and prints the accuracy by output spike count.
snnTorch's importer builds every neuron with reset to zero and no reset
delay, and runs all layers within one step (docs/nir.md, "Peers' readings
of the same file"): its figure is its own reading of the graph, not ours."""
import gzip, struct, sys
import numpy as np
import torch
import nir
from snntorch.import_nir import import_from_nir


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    magic, n = struct.unpack('>II', data[:8])
    if magic == 2051:
        r, c = struct.unpack('>II', data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, r * c)
    return np.frombuffer(data, np.uint8, offset=8)


def rate(pixels, steps):
    acc = np.zeros_like(pixels, dtype=np.int64)
    out = np.zeros((steps,) + pixels.shape, np.float32)
    for t in range(steps):
        acc += pixels
        s = acc >= 255
        out[t][s] = 1.0
        acc[s] -= 255
    return torch.tensor(out)


path, mnist, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
images = int(sys.argv[4]) if len(sys.argv) > 4 else 500
graph = nir.read(path)
net = import_from_nir(graph)
print(f"imported {path}: {type(net).__name__}")
xs = idx(f"{mnist}/t10k-images-idx3-ubyte.gz")[:images].astype(np.int64)
ys = idx(f"{mnist}/t10k-labels-idx1-ubyte.gz")[:images]
x = rate(xs, steps)
with torch.no_grad():
    state = None
    counts = 0
    for t in range(steps):
        out = net(x[t], state) if state is not None else net(x[t])
        if isinstance(out, tuple):
            out, state = out[0], out[1]
        counts = counts + out
pred = counts.argmax(1).numpy()
print(f"snnTorch on {images} test images: accuracy {100 * (pred == ys).mean():.2f}%")
