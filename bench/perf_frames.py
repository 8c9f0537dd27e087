#!/usr/bin/env python3
"""Shares of a `perf` profile of `pgl train`, grouped by the innermost pgl kernel or Burn frame
of each sample's own stack (no attribution through other threads): how much of a step goes
to gemm inside pgl's convolution kernels, im2col, pgl's inlined kernel loops (col2im and
BatchNorm sums, inlined into rayon's iterators), flex's own operations, allocation, the
optimizer. Start-up, evaluation and checkpoints are left out.

    perf record -F 499 -e cpu-clock --call-graph dwarf,16384 -o run.data -- pgl train ...
    perf script -i run.data -F tid,ip,sym | bench/perf_frames.py NAME
"""
import collections
import re
import sys

CATEGORIES = [
    ("outside steps", r"miniz|load_data|pgl_burn::eval|CheckpointStore|ModelCatalog"),
    ("gemm in conv kernels", r"conv_cpu::gemm_into|conv_cpu::matmul"),
    ("im2col", r"conv_cpu::im2col"),
    ("batch norm kernels", r"batch_norm_cpu"),
]


def stacks(stream):
    """Yields each sample's frames, leaf first (the tid line dropped)."""
    current = []
    for line in stream:
        line = line.strip()
        if not line:
            if current:
                yield [f.split(" ", 1)[1] if " " in f else f for f in current[1:]]
            current = []
            continue
        current.append(line)
    if current:
        yield [f.split(" ", 1)[1] if " " in f else f for f in current[1:]]


def category(frames):
    joined = " ".join(frames)
    leaf = frames[0] if frames else ""
    for name, pattern in CATEGORIES:
        if re.search(pattern, joined):
            return name
    if re.search("function::impls", leaf) and "rayon" in joined:
        return "inlined kernel loops (col2im, BN sums)"
    if re.search("malloc|memset|_int_free|page_fault|clear_page", leaf):
        return "allocation/zeroing"
    if "burn_optim" in joined:
        return "optimizer"
    if "burn_flex" in joined:
        return "flex ops (element-wise, pooling, linear, reductions)"
    if re.search("rayon|sched|futex", leaf):
        return "idle/waiting"
    return "other"


def main():
    counts = collections.Counter(category(frames) for frames in stacks(sys.stdin))
    total = sum(v for k, v in counts.items() if k != "outside steps")
    if total == 0:
        sys.exit("no step samples on stdin")
    print(f"{sys.argv[1] if len(sys.argv) > 1 else 'profile'}: {total} step samples")
    for name, count in counts.most_common():
        if name != "outside steps":
            print(f"  {name:<55} {100 * count / total:5.1f} %")


if __name__ == "__main__":
    main()
