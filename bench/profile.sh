#!/usr/bin/env bash
# Where a training step's time goes: `perf record` of local and global steps of the MNIST CNN
# (K=4) and CIFAR ResNet-32 (K=16, InfoPro split, 1c2f heads), batch 128, one category per
# sample (bench/perf_categories.py). The table in docs/perf.md was made with it.
#
#   bench/profile.sh [PGL_BINARY] [STEPS]
#
# PGL_BINARY defaults to target/release/pgl (its symbol table is enough: the categories come
# from function names); STEPS (default 20) is the number of timed steps of each run. Needs
# Debian's `perf` (linux-perf) and python3; MNIST in $PGL_DATA_DIR/mnist (default
# ../shared/data/mnist); CIFAR-10 is replaced by files of random pixels (speed does not depend
# on pixel values). Writes reports to $PROFILE_DIR (default /tmp/pgl-profile); the perf data
# (hundreds of MB per run) is deleted unless KEEP_PERF_DATA=1. PGL_FLAGS adds flags to every
# run (e.g. PGL_FLAGS="--kernels onednn"); ONLY=resnet32 (or cnn) profiles one model's runs.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PGL="${1:-$ROOT/target/release/pgl}"
STEPS="${2:-20}"
DATA="${PGL_DATA_DIR:-$ROOT/../shared/data}"
OUT="${PROFILE_DIR:-/tmp/pgl-profile}"
BATCH=128
mkdir -p "$OUT"

# CIFAR-10 binary files of random pixels, enough for STEPS batches.
python3 - "$OUT/cifar" "$((STEPS * BATCH))" <<'PY'
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

echo "# pgl profile, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -m), $(nproc) cores," \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# binary: $PGL"

profile() {
    local name="$1" schedule="$2"
    shift 2
    rm -rf "$OUT/run-$name"
    perf record -q -F 499 -e cpu-clock -e sched:sched_switch --call-graph dwarf,16384 \
        -o "$OUT/$name.data" -- "$PGL" train --batch-size "$BATCH" --epochs 1 \
        --train-limit "$((STEPS * BATCH))" --test-limit 128 --schedule "$schedule" --local-objective ce \
        --out "$OUT/run-$name" "$@" ${PGL_FLAGS:-} >"$OUT/$name.log" 2>&1
    perf script -i "$OUT/$name.data" -F tid,time,event,ip,sym,dso 2>/dev/null \
        | python3 "$HERE/perf_categories.py" --json >"$OUT/$name.json"
    [ -n "${KEEP_PERF_DATA:-}" ] || rm -f "$OUT/$name.data" # hundreds of MB each
    echo "## $name ($(grep -o '[0-9.]*s;' "$OUT/$name.log" | head -1 | tr -d ';') run)"
    python3 - "$OUT/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{r['step_samples']} step samples (outside steps: {r['outside_steps']})")
for k, v in r["step_shares"].items():
    print(f"  {k:<30} {v:5.1f} %")
PY
}

# The CNN's heads and the objective of the tables in docs/perf.md (and of bench/torch_profile.py).
CNN=(--dataset mnist --data-dir "$DATA/mnist" --model cnn --aux-head pool2-1f --modules 4 --optimizer adam --lr 0.001)
RESNET=(--dataset cifar10 --data-dir "$OUT/cifar" --model resnet32 --split infopro
    --aux-head 1c2f --modules 16 --optimizer sgd --lr 0.1)
if [ "${ONLY:-cnn}" = cnn ]; then
    profile cnn-local local-only "${CNN[@]}"
    profile cnn-global end-to-end "${CNN[@]}"
fi
if [ "${ONLY:-resnet32}" = resnet32 ]; then
    profile resnet32-local local-only "${RESNET[@]}"
    profile resnet32-global end-to-end "${RESNET[@]}"
fi
