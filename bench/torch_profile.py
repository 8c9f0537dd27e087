"""Where PyTorch's CPU time goes in the same steps as bench/profile.sh profiles in pgl: the
reference models of bench/gpu/torch_reference.py under torch.profiler, self CPU time summed
into the categories of bench/perf_categories.py (docs/perf.md puts the two side by side).

    ~/.cache/pgl/torch-venv/bin/python bench/torch_profile.py --model cnn --modules 4 --steps 10
    ~/.cache/pgl/torch-venv/bin/python bench/torch_profile.py --model resnet32 --modules 16 --steps 4

Prints one JSON object per step kind: milliseconds per step in each category, and the step time.
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu"))
import torch_reference as ref  # noqa: E402

# (category, substrings of aten op names); first match wins. Conv backward is one op in
# PyTorch (input- and weight-gradient together).
CATEGORIES = [
    ("conv backward (input + weight grad)", ["convolution_backward"]),
    ("conv forward", ["convolution", "conv2d", "mkldnn_conv"]),
    ("BatchNorm backward", ["batch_norm_backward", "native_batch_norm_backward"]),
    ("BatchNorm forward", ["batch_norm"]),
    ("linear (matmul)", ["addmm", "mm", "linear"]),
    ("pooling", ["pool"]),
    ("optimizer", ["_foreach", "adam", "sgd", "lerp", "addcdiv", "addcmul", "sqrt"]),
    ("allocation", ["empty", "zeros", "zero_", "fill_", "resize_"]),
]


def category(name):
    lowered = name.lower()
    for cat, keys in CATEGORIES:
        if any(k in lowered for k in keys):
            return cat
    return "element-wise, reductions, other"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["cnn", "resnet32"], required=True)
    p.add_argument("--modules", type=int, required=True)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.manual_seed(42)
    # The CNN with pool2-1f heads, as bench/profile.sh runs pgl's (the heads of its tables).
    if a.model == "cnn":
        stages, heads, shape = ref.cnn(a.modules, aux_head="pool2-1f")
    else:
        stages, heads, shape = ref.resnet32(a.modules)
    make = (lambda ps: torch.optim.Adam(ps, lr=1e-3)) if a.model == "cnn" else (
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))
    opts = [make(list(s.parameters()) + list(h.parameters())) for s, h in zip(stages, heads)]
    x = torch.randn(a.batch_size, *shape)
    y = torch.randint(0, 10, (a.batch_size,))

    def local_step():
        h = x
        for stage, head, opt in zip(stages, heads, opts):
            h = stage(h.detach())
            loss = F.cross_entropy(head(h), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def global_step():
        h = x
        for stage in stages:
            h = stage(h)
        loss = F.cross_entropy(heads[-1](h), y)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in opts:
            opt.step()

    for kind, step in [("local", local_step), ("global", global_step)]:
        for _ in range(3):
            step()
        start = time.perf_counter()
        for _ in range(a.steps):
            step()
        step_ms = 1000 * (time.perf_counter() - start) / a.steps
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(a.steps):
                step()
        totals = {}
        for event in prof.key_averages():
            cat = category(event.key)
            totals[cat] = totals.get(cat, 0.0) + event.self_cpu_time_total / 1000 / a.steps
        profiled = sum(totals.values())
        print(json.dumps({
            "model": a.model, "modules": a.modules, "step": kind, "threads": torch.get_num_threads(),
            "step_ms_unprofiled": round(step_ms, 1),
            "ms_per_step": {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
            "shares_percent": {k: round(100 * v / profiled, 1)
                               for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
        }))


if __name__ == "__main__":
    main()
