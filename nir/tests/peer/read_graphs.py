"""Reads every .nir file in a folder with the reference `nir` package, its
type check on, and prints what it found as JSON (nir/tests/peer.rs checks
it). Usage: python3 read_graphs.py DIR"""
import json, os, sys
import numpy as np
import nir

out = {}
for name in sorted(os.listdir(sys.argv[1])):
    if not name.endswith(".nir"):
        continue
    g = nir.read(os.path.join(sys.argv[1], name), type_check=True)
    nodes = {}
    for k, n in g.nodes.items():
        params = {}
        for p, v in n.__dict__.items():
            if isinstance(v, np.ndarray) and v.dtype.kind in "fi":
                params[p] = {"shape": list(v.shape), "first": float(v.ravel()[0]) if v.size else None,
                             "finite": bool(np.isfinite(v).all())}
        nodes[k] = {"type": type(n).__name__, "params": params, "metadata": {m: str(x) for m, x in n.metadata.items()}}
    out[name] = {"version": nir.serialization.read_version(os.path.join(sys.argv[1], name)),
                 "nodes": nodes, "edges": [list(e) for e in g.edges],
                 "metadata": sorted(g.metadata.keys())}
print(json.dumps(out))
