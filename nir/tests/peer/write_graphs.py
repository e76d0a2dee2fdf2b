"""Writes NIR graphs with the reference `nir` package, for onespike's importer
to read (nir/tests/peer.rs). Usage: python3 write_graphs.py OUT_DIR

Every parameter is a small deterministic pattern, so the Rust side can check
what it imported value by value; `expected.json` holds what numpy computes
where the check is not a plain copy (the unrolled convolution and pool)."""
import json, sys
import numpy as np
import nir

out = sys.argv[1]
f32 = np.float32


def pattern(shape, scale=0.1, offset=0.0):
    n = int(np.prod(shape))
    return ((np.arange(n) % 7 - 3) * scale + offset).astype(f32).reshape(shape)


def write(name, graph, **kw):
    nir.write(f"{out}/{name}.nir", graph, **kw)


# 1. LIF with 0-d parameters (as snnTorch writes scalars), uncompressed: nir
#    1.0.8's default gzip write fails on 0-d arrays ("Scalar datasets don't
#    support chunk/filter options"); the compressed twin has one-element arrays.
w0 = pattern((4, 3))
w1 = pattern((2, 4), 0.2)
scalar_lif = lambda: nir.LIF(tau=np.array(4e-4), r=np.array(4.0), v_leak=np.array(0.0),
                             v_threshold=np.array(1.0), v_reset=np.array(0.0))
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "fc0": nir.Linear(w0), "lif0": scalar_lif(),
                        "fc1": nir.Linear(w1), "lif1": scalar_lif(), "output": nir.Output(np.array([2]))},
                 edges=[("input", "fc0"), ("fc0", "lif0"), ("lif0", "fc1"), ("fc1", "lif1"), ("lif1", "output")],
                 type_check=False)
write("scalar_lif_plain", g, compression=None)
one = lambda v: np.array([v], f32)
g.nodes["lif0"] = nir.LIF(tau=one(4e-4), r=one(4.0), v_leak=one(0.0), v_threshold=one(1.0), v_reset=one(0.0))
g.nodes["lif1"] = nir.LIF(tau=one(4e-4), r=one(4.0), v_leak=one(0.0), v_threshold=one(1.0), v_reset=one(0.0))
write("scalar_lif", g)

# 2. CubaLIF with infinite time constants (snnTorch alpha = beta = 1): no decay, gain 1.
inf = np.full(4, np.inf, f32)
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "fc0": nir.Linear(w0),
                        "cuba0": nir.CubaLIF(tau_syn=inf, tau_mem=inf, r=inf, v_leak=np.zeros(4, f32),
                                             v_threshold=np.full(4, 0.5, f32), v_reset=np.zeros(4, f32), w_in=inf),
                        "output": nir.Output(np.array([4]))},
                 edges=[("input", "fc0"), ("fc0", "cuba0"), ("cuba0", "output")])
write("cuba_inf", g)

# 3. A nested graph: a recurrent LIF layer (snnTorch RLeaky's shape) as a subgraph
#    that the outer graph reaches by its name.
wr = pattern((4, 4), 0.05)
lif = nir.LIF(tau=np.full(4, 8e-4, f32), r=np.full(4, 8.0, f32), v_leak=np.zeros(4, f32),
              v_threshold=np.full(4, 1.0, f32), v_reset=np.zeros(4, f32))
inner = nir.NIRGraph(nodes={"input": nir.Input(np.array([4])), "lif": lif, "w_rec": nir.Linear(wr),
                            "output": nir.Output(np.array([4]))},
                     edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "fc0": nir.Linear(w0), "rlif": inner,
                        "fc1": nir.Linear(w1), "lif1": nir.LIF(tau=one(4e-4), r=one(4.0), v_leak=one(0.0),
                                                               v_threshold=one(1.0), v_reset=one(0.0)), "output": nir.Output(np.array([2]))},
                 edges=[("input", "fc0"), ("fc0", "rlif"), ("rlif", "fc1"), ("fc1", "lif1"), ("lif1", "output")],
                 type_check=False)
write("nested", g)

# 4. Linear -> I -> IF (the exact continuous form of a TTFS ramp neuron) and an
#    Affine -> LIF -> Linear -> LI readout.
dt = 1e-4
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "fc0": nir.Linear(w0),
                        "i0": nir.I(r=np.full(4, 1 / dt, f32)),
                        "if0": nir.IF(r=np.full(4, 1 / dt, f32), v_threshold=np.full(4, 2.0, f32), v_reset=np.zeros(4, f32)),
                        "output": nir.Output(np.array([4]))},
                 edges=[("input", "fc0"), ("fc0", "i0"), ("i0", "if0"), ("if0", "output")])
write("i_if", g)
b0 = pattern((4,), 0.01)
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "fc0": nir.Affine(w0, b0),
                        "lif0": nir.LIF(tau=np.full(4, 2e-4, f32), r=np.full(4, 2.0, f32), v_leak=np.zeros(4, f32),
                                        v_threshold=np.full(4, 1.0, f32), v_reset=np.zeros(4, f32)),
                        "fc1": nir.Linear(w1),
                        "li1": nir.LI(tau=np.full(2, 4e-4, f32), r=np.full(2, 4.0, f32), v_leak=np.zeros(2, f32)),
                        "output": nir.Output(np.array([2]))},
                 edges=[("input", "fc0"), ("fc0", "lif0"), ("lif0", "fc1"), ("fc1", "li1"), ("li1", "output")])
write("affine_li", g)

# 5. Conv2d (padding 1) -> IF -> SumPool2d -> Flatten -> Linear -> LIF, with the
#    dense matrices numpy computes for the two layers.
cw = pattern((2, 1, 3, 3), 0.1, 0.05)
conv = nir.Conv2d(input_shape=(6, 6), weight=cw, stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(2, f32))
if0 = nir.IF(r=np.full((2, 6, 6), 1 / dt, f32), v_threshold=np.full((2, 6, 6), 1.0, f32), v_reset=np.zeros((2, 6, 6), f32))
pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
flat = nir.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0, end_dim=-1)
wl = pattern((3, 18), 0.1)
lif1 = nir.LIF(tau=np.full(3, 4e-4, f32), r=np.full(3, 4.0, f32), v_leak=np.zeros(3, f32),
               v_threshold=np.full(3, 1.0, f32), v_reset=np.zeros(3, f32))
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([1, 6, 6])), "conv": conv, "if0": if0, "pool": pool,
                        "flat": flat, "fc1": nir.Linear(wl), "lif1": lif1, "output": nir.Output(np.array([3]))},
                 edges=[("input", "conv"), ("conv", "if0"), ("if0", "pool"), ("pool", "flat"), ("flat", "fc1"),
                        ("fc1", "lif1"), ("lif1", "output")], type_check=False)
write("conv_pool", g)


def conv_matrix():
    m = np.zeros((2 * 36, 36))
    for co in range(2):
        for y in range(6):
            for x in range(6):
                for ky in range(3):
                    for kx in range(3):
                        yy, xx = y + ky - 1, x + kx - 1
                        if 0 <= yy < 6 and 0 <= xx < 6:
                            m[co * 36 + y * 6 + x, yy * 6 + xx] += cw[co, 0, ky, kx]
    return m


def pool_matrix():
    m = np.zeros((18, 72))
    for c in range(2):
        for y in range(3):
            for x in range(3):
                for dy in range(2):
                    for dx in range(2):
                        m[c * 9 + y * 3 + x, c * 36 + (2 * y + dy) * 6 + 2 * x + dx] = 1
    return m


# 6. Conv1d (stride 2, dilation 2, groups 1) -> LIF, on a flat 1x10 input.
c1 = pattern((3, 1, 3), 0.1, 0.02)
conv1 = nir.Conv1d(input_shape=10, weight=c1, stride=2, padding=0, dilation=2, groups=1, bias=np.zeros(3, f32))
lif_c1 = nir.LIF(tau=np.full((3, 3), 4e-4, f32), r=np.full((3, 3), 4.0, f32), v_leak=np.zeros((3, 3), f32),
                 v_threshold=np.full((3, 3), 1.0, f32), v_reset=np.zeros((3, 3), f32))
g = nir.NIRGraph(nodes={"input": nir.Input(np.array([1, 10])), "conv": conv1, "lif": lif_c1,
                        "output": nir.Output(np.array([3, 3]))},
                 edges=[("input", "conv"), ("conv", "lif"), ("lif", "output")], type_check=False)
write("conv1d", g)


def conv1d_matrix():
    m = np.zeros((9, 10))
    for co in range(3):
        for o in range(3):
            for k in range(3):
                m[co * 3 + o, o * 2 + k * 2] += c1[co, 0, k]
    return m


json.dump({"conv_pool": {"layer0": conv_matrix().ravel().tolist(),
                         "layer1": (wl.astype(np.float64) @ pool_matrix()).ravel().tolist()},
           "conv1d": conv1d_matrix().ravel().tolist()},
          open(f"{out}/expected.json", "w"))
print("wrote", out)
