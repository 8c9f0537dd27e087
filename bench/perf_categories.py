#!/usr/bin/env python3
"""Share of a `pgl train` run's CPU time per operation, from `perf script` output.

    perf record -F 499 -e cpu-clock -e sched:sched_switch --call-graph dwarf,16384 -o X.data -- pgl train ...
    perf script -i X.data -F tid,time,event,ip,sym,dso | python3 bench/perf_categories.py [--json]

Each cpu-clock sample is put in one category by its call stack. Samples taken on a rayon worker
thread have no caller above the worker's job, so a worker sample whose own stack names no
operation is attributed to what the main thread was doing at that moment: the stack of the
main thread's latest sample or scheduler switch (a thread that blocks waiting for the pool is
recorded by `sched:sched_switch` with its full stack). Startup (reading the dataset, building
the model), evaluation and checkpoint writes are counted separately and left out of the step
shares. With `dso` in the fields, a sample whose innermost frame is oneDNN's code (its library
or the kernels it generates at run time, which perf sees as anonymous `perf-PID.map` code with
no caller) is "oneDNN kernels", and one inside libgomp (OpenMP's thread pool, which oneDNN
brings) is "OpenMP waiting": those stacks cannot be unwound into the operation they serve.
"""

import collections
import json
import re
import sys

# (category, patterns): the first category with a pattern found in a stack wins, so more
# specific contexts come first. Patterns are regular expressions searched in each frame.
OUTSIDE = [
    ("startup: dataset", [r"pgl::setup::load_data", r"DatasetEntry::load"]),
    ("startup: model", [r"ModelCatalog::build", r"pgl::setup::RunSetup::prepare"]),
    ("evaluation", [r"pgl_burn::eval::"]),
    ("checkpoint", [r"pgl_burn::checkpoint::", r"CheckpointStore"]),
]
STEP = [
    ("data (batches)", [r"pgl_data::"]),
    ("conv input-grad", [r"conv2d_x_backward", r"conv_transpose", r"conv2d_input_grad",
                         r"flex_conv::input_grad"]),
    ("conv weight-grad", [r"conv2d_weight_backward", r"conv2d_weight_grad",
                          r"flex_conv::weight_grad"]),
    ("conv forward", [r"conv2d", r"conv3d_f32", r"burn_flex::ops::conv::"]),
    ("BatchNorm backward", [r"batch_norm_train_backward", r"BatchNormTrainOps",
                            r"PglBatchNormBackward"]),
    ("BatchNorm forward", [r"batch_norm"]),
    ("linear (matmul)", [r"matmul", r"linear"]),
    ("pooling", [r"pool"]),
    ("optimizer", [r"burn_optim::", r"pgl_burn::optim", r"step_dyn"]),
    ("element-wise and reductions", [r"burn_flex::ops::", r"burn_flex::zip", r"burn_flex::simd",
                                    r"cross_entropy", r"relu", r"burn_tensor::"]),
    ("autodiff graph bookkeeping", [r"burn_autodiff::"]),
    ("pgl bookkeeping", [r"pgl_burn::", r"pgl_models::", r"pgl::"]),
]
# Leaf frames that make a sample "allocation" (the allocator, zeroing fresh memory, and the
# kernel faulting fresh pages in), whatever operation asked for the memory.
ALLOC_LEAF = re.compile(
    r"malloc|_int_free|cfree|free@|unlink_chunk|realloc|CountingAllocator|memset|"
    r"page_fault|clear_page|alloc_pages|folio|memcg|mm_fault|__rmqueue|unmap_page|mas_walk|"
    r"lruvec|zap_|tlb|mmap|munmap|brk|madvise"
)
# Shared objects whose samples are categorised by their innermost frame alone (see the top).
FOREIGN = [("oneDNN kernels", r"perf-\d+\.map|libdnnl"), ("OpenMP waiting", r"libgomp")]
FOREIGN_LEAF = [(name, re.compile(dso)) for name, dso in FOREIGN]
DSO_KINDS = re.compile("|".join(dso for _, dso in FOREIGN))
IDLE_LEAF = re.compile(r"rayon|crossbeam|sched_yield|futex|schedule|syscall|finish_task_switch")


def parse(stream):
    """Yields (tid, time, event, frames leaf-first) per sample."""
    head, frames = None, []
    for line in stream:
        line = line.rstrip("\n")
        if not line.strip():
            if head:
                yield head + (frames,)
            head, frames = None, []
            continue
        if head is None:
            m = re.match(r"\s*(\d+)\s+([\d.]+):\s+(\S+?):?\s*$", line) or re.match(
                r"\s*(\d+)\s+([\d.]+):\s+(\S+):", line
            )
            if m:
                head = (int(m.group(1)), float(m.group(2)), m.group(3).rstrip(":"))
            continue
        m = re.match(r"\s*[0-9a-f]+\s+(.*?)(\s+\(.*\))?$", line)
        if m:
            dso = (m.group(2) or "").strip()
            frames.append(m.group(1) + (" " + dso if DSO_KINDS.search(dso) else ""))
    if head:
        yield head + (frames,)


def first_match(frames, table):
    for name, patterns in table:
        for frame in frames:
            if any(re.search(p, frame) for p in patterns):
                return name
    return None


def leaf_kind(frames):
    """'allocation' or 'idle' when the innermost frames are the allocator or the pool's waiting."""
    for frame in frames[:12]:
        if ALLOC_LEAF.search(frame):
            return "allocation"
        if frame.startswith(("ffffffff", "[unknown]")) or "kernel" in frame:
            continue
        if re.match(r"(entry_|do_syscall|asm_|exc_|__x64|__do|do_|handle_)", frame):
            continue
        break
    leaf = frames[0] if frames else ""
    if IDLE_LEAF.search(leaf) and not any("burn_flex::ops" in f or "gemm" in f for f in frames):
        return "idle"
    return None


def names_an_op(frames):
    return any(re.search(r"burn_|pgl|gemm_f32::gemm|conv", f) and "rayon" not in f for f in frames
               if not f.startswith(("rayon", "<rayon", "crossbeam")))


def main():
    samples = list(parse(sys.stdin))
    if not samples:
        sys.exit("no samples on stdin")
    main_tid = min(tid for tid, *_ in samples)
    counts = collections.Counter()
    last_main = []  # latest stack of the main thread (sample or scheduler switch)
    # A worker's own stack says which operation it serves only when it reaches Burn's
    # backend-generic layer or pgl; flex's kernels (gemm, copies) and pgl's slice kernels
    # (im2col, gemm calls, per-channel loops, whose closures are inlined) serve several.
    own_context = re.compile(r"burn_backend|burn_autodiff|burn_dispatch|pgl")
    shared_kernel = re.compile(r"pgl_burn::kernels::(conv_cpu|batch_norm_cpu)::")
    for tid, _time, event, frames in samples:
        if tid == main_tid:
            last_main = frames
        if event != "cpu-clock":
            continue
        context = frames
        if tid != main_tid and not any(
            own_context.search(f) and not shared_kernel.search(f) for f in frames
        ):
            context = frames + last_main
        outside = first_match(context, OUTSIDE)
        if outside:
            counts["outside: " + outside] += 1
            continue
        foreign = next((name for name, leaf in FOREIGN_LEAF if frames and leaf.search(frames[0])),
                       None)
        if foreign:
            counts[foreign] += 1
            continue
        kind = leaf_kind(frames)
        if kind == "allocation":
            counts["allocation"] += 1
            continue
        category = first_match(context, STEP)
        if category is None:
            category = "thread-pool waiting" if kind == "idle" else "other"
        counts[category] += 1
    step_total = sum(v for k, v in counts.items() if not k.startswith("outside: "))
    total = sum(counts.values())
    rows = sorted(((k, v) for k, v in counts.items() if not k.startswith("outside: ")),
                  key=lambda kv: -kv[1])
    report = {
        "samples": total,
        "step_samples": step_total,
        "step_shares": {k: round(100.0 * v / step_total, 1) for k, v in rows},
        "outside_steps": {k[len("outside: "):]: v for k, v in counts.items() if k.startswith("outside: ")},
    }
    if "--json" in sys.argv:
        print(json.dumps(report, indent=2))
        return
    print(f"{step_total} step samples of {total} (rest: startup, evaluation, checkpoint)")
    for k, v in rows:
        print(f"  {k:<30} {100.0 * v / step_total:5.1f} %")


if __name__ == "__main__":
    main()
