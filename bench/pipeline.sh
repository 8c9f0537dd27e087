#!/usr/bin/env bash
# When does `--pipeline 2` pay on this machine? `pgl bench --json` (local steps, sequential
# against pipelined over 2 workers, each after one untimed step) for the MNIST CNN (K = 4,
# batch 128; the bench heads `pool2-1f` with `ce`, and today's defaults `1c2f` with `supcon`)
# and CIFAR ResNet-32 (K = 16, InfoPro split, 1c2f heads, SGD, batch 128), twice each: with
# every core for the kernels (the sequential run's kernels use them all; each pipeline worker
# gets its share) and with one thread per kernel pool (RAYON_NUM_THREADS=1: sequential on one
# core, each pipeline worker on one core of its own). Prints a Markdown table.
#
#   bench/pipeline.sh                       # builds `pgl` (release) if target/release/pgl is missing
#   PGL=path/to/pgl CNN_STEPS=20 RESNET_STEPS=8 bench/pipeline.sh
#
# CIFAR-10 is replaced by files of random pixels (speed does not depend on pixel values); MNIST
# is read from $PGL_DATA_DIR/mnist (default ../shared/data/mnist). The machine should be
# otherwise idle: the load average before and after is printed with the table.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PGL="${PGL:-$ROOT/target/release/pgl}"
DATA="${PGL_DATA_DIR:-$ROOT/../shared/data}"
CNN_STEPS="${CNN_STEPS:-20}"
RESNET_STEPS="${RESNET_STEPS:-8}"
BATCH=128
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$PGL" ]; then
    (cd "$ROOT" && cargo build --release -p pgl-cli)
    PGL="$ROOT/target/release/pgl"
fi

python3 - "$WORK/cifar" "$((2 * RESNET_STEPS * BATCH))" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    count = 128 if name == "test_batch.bin" else -(-n // 5)
    with open(os.path.join(root, name), "wb") as f:
        for _ in range(count):
            f.write(bytes([random.randrange(10)]) + random.randbytes(3072))
PY

MNIST=(--dataset mnist --data-dir "$DATA/mnist" --model cnn --modules 4 --optimizer adam --lr 0.001
    --steps "$CNN_STEPS")
CASES=(
    "cnn-bench|MNIST CNN K=4, pool2-1f heads, ce|--aux-head pool2-1f --local-objective ce"
    "cnn-default|MNIST CNN K=4, defaults (1c2f heads, supcon)|"
    "resnet|ResNet-32 K=16, InfoPro split, 1c2f, ce|--local-objective ce"
)
RESNET=(--dataset cifar10 --data-dir "$WORK/cifar" --model resnet32 --split infopro --aux-head 1c2f
    --modules 16 --optimizer sgd --lr 0.1 --momentum 0.9 --steps "$RESNET_STEPS")

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for threads in all 1; do
    for case in "${CASES[@]}"; do
        IFS='|' read -r name _ extra <<<"$case"
        if [ "$name" = resnet ]; then base=("${RESNET[@]}"); else base=("${MNIST[@]}"); fi
        read -r -a flags <<<"$extra"
        echo "pgl bench: $name, threads $threads" >&2
        if [ "$threads" = all ]; then
            "$PGL" bench --json --batch-size "$BATCH" --workers 2 "${base[@]}" "${flags[@]}" \
                >"$WORK/$name-$threads.json"
        else
            RAYON_NUM_THREADS=1 "$PGL" bench --json --batch-size "$BATCH" --workers 2 \
                "${base[@]}" "${flags[@]}" >"$WORK/$name-$threads.json"
        fi
    done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$WORK" "$load_before" "$load_after" "$(nproc)" "${CASES[@]}" <<'PY'
import json, os, sys
work, before, after, cores, *cases = sys.argv[1:]
print(f"`--pipeline 2` (2 workers) against sequential local steps; batch 128; {cores} cores; "
      f"load average before {before}, after {after}")
print()
print("| model | kernel threads | sequential im/s | pipelined im/s | speedup |")
print("|---|---|---:|---:|---:|")
for case in cases:
    name, label, _ = case.split("|")
    for threads, words in [("all", f"all {cores} (sequential); shared by the workers"),
                           ("1", "1 (sequential); 1 per worker")]:
        r = json.load(open(os.path.join(work, f"{name}-{threads}.json")))
        ips = r["images_per_second"]
        print(f"| {label} | {words} | {ips['sequential']:.1f} | {ips['pipelined']:.1f} | "
              f"{ips['pipelined'] / ips['sequential']:.2f}× |")
PY
