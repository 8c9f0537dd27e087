#!/usr/bin/env bash
# pgl next to PyTorch on this machine's CPU: images/s of local and global steps of the MNIST
# CNN (K=4, Adam) and CIFAR ResNet-32 (K=16, InfoPro split, 1c2f heads, SGD), batch 128, and
# pgl's `--pipeline 2` over sequential local steps. Prints a Markdown table with ratios.
#
#   bench/bench-vs-torch.sh            # builds `pgl` (release) if target/release/pgl is missing
#   PGL=path/to/pgl CNN_STEPS=20 RESNET_STEPS=12 bench/bench-vs-torch.sh
#   THREADS=1 bench/bench-vs-torch.sh  # both on one thread (RAYON_NUM_THREADS, OMP_NUM_THREADS)
#   PGL_FLAGS="--kernels onednn" bench/bench-vs-torch.sh   # extra flags for every pgl run
#
# pgl: `pgl bench --json` (sequential and pipelined local steps, global steps, each after one
# untimed step). PyTorch: bench/gpu/torch_reference.py on the CPU (same models, splits, heads,
# optimizers and batch; 3 untimed steps). MNIST is read from $PGL_DATA_DIR/mnist (default
# ../shared/data/mnist); CIFAR-10 is replaced by files of random pixels (speed does not depend
# on pixel values). PyTorch is taken from the virtual environment $TORCH_VENV (default
# ~/.cache/pgl/torch-venv) and installed there when missing (CPU wheels, ~200 MB; never done by
# CI or tests). Both use every core unless THREADS is set. The machine should be otherwise
# idle (PyTorch's OpenMP threads slow down many times over on a busy machine): the load
# average before and after is printed with the table. THREADS=1 compares the kernels one core
# against one core, which a busy machine disturbs far less; the pipeline row then still uses
# one thread per worker.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PGL="${PGL:-$ROOT/target/release/pgl}"
DATA="${PGL_DATA_DIR:-$ROOT/../shared/data}"
VENV="${TORCH_VENV:-$HOME/.cache/pgl/torch-venv}"
CNN_STEPS="${CNN_STEPS:-20}"
RESNET_STEPS="${RESNET_STEPS:-12}"
BATCH=128
if [ -n "${THREADS:-}" ]; then
    export RAYON_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$PGL" ]; then
    (cd "$ROOT" && cargo build --release -p pgl-cli)
    PGL="$ROOT/target/release/pgl"
fi
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    echo "installing PyTorch (CPU) into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu \
        || "$VENV/bin/pip" install --quiet torch
fi
PY="$VENV/bin/python"

"$PY" - "$WORK/cifar" "$((RESNET_STEPS * BATCH))" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
random.seed(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    count = 128 if name == "test_batch.bin" else -(-n // 5)
    with open(os.path.join(root, name), "wb") as f:
        for _ in range(count):
            f.write(bytes([random.randrange(10)]) + random.randbytes(3072))
PY

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# `ce` aux heads, as the PyTorch reference trains (pgl's default objective is supcon); the
# CNN's `pool2-1f` heads on both sides, the heads of every earlier table (its default is 1c2f).
CNN=(--dataset mnist --data-dir "$DATA/mnist" --model cnn --aux-head pool2-1f --modules 4 --optimizer adam --lr 0.001
    --local-objective ce
    --steps "$CNN_STEPS" ${PGL_FLAGS:-})
RESNET=(--dataset cifar10 --data-dir "$WORK/cifar" --model resnet32 --split infopro --aux-head 1c2f
    --modules 16 --optimizer sgd --lr 0.1 --momentum 0.9 --local-objective ce --steps "$RESNET_STEPS"
    ${PGL_FLAGS:-})
echo "pgl bench: MNIST CNN K=4" >&2
"$PGL" bench --json --batch-size "$BATCH" --workers 2 "${CNN[@]}" >"$WORK/pgl-cnn.json"
echo "PyTorch: MNIST CNN K=4" >&2
"$PY" "$HERE/gpu/torch_reference.py" --json --model cnn --aux-head pool2-1f --modules 4 --batch-size "$BATCH" \
    --steps "$CNN_STEPS" >"$WORK/torch-cnn.json"
echo "pgl bench: ResNet-32 K=16" >&2
"$PGL" bench --json --batch-size "$BATCH" --workers 2 "${RESNET[@]}" >"$WORK/pgl-resnet.json"
echo "PyTorch: ResNet-32 K=16" >&2
"$PY" "$HERE/gpu/torch_reference.py" --json --model resnet32 --modules 16 --batch-size "$BATCH" \
    --steps "$RESNET_STEPS" >"$WORK/torch-resnet.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$WORK" "$load_before" "$load_after" "$CNN_STEPS" "$RESNET_STEPS" "${THREADS:-all}" <<'PY'
import json, os, platform, sys, time
work, before, after, cnn_steps, resnet_steps, threads = sys.argv[1:]
read = lambda name: json.load(open(os.path.join(work, name)))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
torch = read("torch-cnn.json")
print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores "
      f"({cpu}, {platform.machine()}); threads: {threads} (PyTorch {torch['torch']} CPU: "
      f"{torch['threads']}); "
      f"batch 128; load average before {before}, after {after}; timed steps: CNN {cnn_steps}, "
      f"ResNet-32 {resnet_steps}; pgl flags: {os.environ.get('PGL_FLAGS') or 'none'}; "
      f"pgl kernels: {read('pgl-cnn.json').get('kernels', '?')}.\n")
print("| work | pgl (flex) | PyTorch CPU | pgl / PyTorch |")
print("|---|---:|---:|---:|")
rows = []
for label, name in [("MNIST CNN K=4", "cnn"), ("ResNet-32 K=16 (InfoPro split, 1c2f)", "resnet")]:
    pgl, ref = read(f"pgl-{name}.json"), read(f"torch-{name}.json")
    short = label.split(" (")[0]
    for kind, ours, theirs in [("local step", pgl["images_per_second"]["sequential"], ref["local"]),
                               ("global step", pgl["global_images_per_second"], ref["global"])]:
        print(f"| {label if kind == 'local step' else short}, {kind} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    rows.append((short, pgl["images_per_second"]["pipelined"], pgl["images_per_second"]["sequential"]))
speedups = ", ".join(f"{p / s:.2f}× ({name}: {p:.1f} vs {s:.1f})" for name, p, s in rows)
label = "`--pipeline 2` vs sequential, local steps"
if threads != "all":
    label += f" (sequential on {threads} thread(s), each worker on its own)"
print(f"| {label} | {speedups} | | |")
PY
