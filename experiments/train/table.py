#!/usr/bin/env python3
"""Markdown table of the final figures of `onespike train` logs (the .log.json files)."""
import json, sys

print("| run | epochs | test float | float, continuous time | test hardware | spikes/neuron/sample (hw) | with early exit | synapses pruned (float / after quantization) | epoch time, median (s) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for path in sys.argv[1:]:
    d = json.load(open(path))
    t, e = d["test"], d["epochs"]
    secs = sorted(r["epoch_seconds"] for r in e)
    early = t.get("test_hw_early_exit_spikes_per_neuron")
    early = "-" if early is None else f"{early:.3f}"
    cont = t.get("test_float_continuous_accuracy")
    cont = "-" if cont is None else f"{100*cont:.2f} %"
    print(f"| {path.split('/')[-1].replace('.json.log.json', '')} | {len(e)} | {100*t['test_float_accuracy']:.2f} % | {cont} "
          f"| {100*t['test_hw_accuracy']:.2f} % | {t['test_hw_spikes_per_neuron']:.3f} | {early} "
          f"| {100*t['float_sparsity']:.1f} % / {100*t['hw_sparsity']:.1f} % | {secs[len(secs)//2]:.1f} |")
