#!/usr/bin/env bash
# One GPU measurement session for pgl, next to the same models in PyTorch.
#
#   bench/gpu/run.sh KIT
#
# KIT is a folder carried to the GPU machine with:
#   pgl.xz   a stripped x86-64 release build of `pgl` with `--features cuda`
#            (made by bench/gpu/make-kit.sh on any machine; no GPU or CUDA toolkit needed)
#   mnist/   the four MNIST IDX .gz files
# The machine needs an NVIDIA driver >= 580, a CUDA 13 toolkit (NVRTC and headers, found in
# $CUDA_PATH or /usr/local/cuda), python3 with PyTorch. Nothing is downloaded.
#
# Prints a table (and writes it to $OUT/gpu-results.md when $OUT is set): device, images/s of
# local and global steps for ResNet-32 K=16 (InfoPro split, 1c2f heads, batch 1024) and the
# MNIST CNN K=4 (pool2-1f heads, batch 128), peak device memory of each kind of step, and test accuracy after
# a short MNIST run, for pgl and PyTorch. Every step has its own time limit so that one slow
# part cannot eat the session; a part that fails or times out prints why and the rest goes on.
set -uo pipefail

KIT="$(cd "${1:?usage: bench/gpu/run.sh KIT}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
RESULTS="${OUT:-$WORK}/gpu-results.md"
export CUDA_PATH="${CUDA_PATH:-/usr/local/cuda}"
export LD_LIBRARY_PATH="$CUDA_PATH/lib64:${LD_LIBRARY_PATH:-}"

python3 - "$KIT/pgl.xz" "$WORK/pgl" <<'PY'
import lzma, os, sys
with lzma.open(sys.argv[1]) as src, open(sys.argv[2], "wb") as dst:
    dst.write(src.read())
os.chmod(sys.argv[2], 0o755)
PY
PGL="$WORK/pgl"

# CIFAR-10 binary files of random pixels: throughput does not depend on pixel values.
python3 - "$WORK/cifar" <<'PY'
import os, random, sys
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
random.seed(0)
for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
    with open(os.path.join(root, name), "wb") as f:
        for _ in range(2048):
            f.write(bytes([random.randrange(10)]) + os.urandom(3072))
PY

# Highest GPU memory in use (MiB) while a command runs, sampled every 50 ms by nvidia-smi.
peak_mib() {
    local log="$WORK/mem.$RANDOM"
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 >"$log" 2>/dev/null &
    local sampler=$!
    "$@"
    local status=$?
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    echo "$(sort -n "$log" | tail -1) MiB" >"$WORK/last-peak"
    return $status
}

row() { printf '| %s | %s | %s | %s | %s |\n' "$@" | tee -a "$RESULTS"; }

device="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
echo "# pgl on $device, $(date -u +%Y-%m-%d)" | tee "$RESULTS"
echo | tee -a "$RESULTS"
row "what" "implementation" "local step" "global step" "notes"
row "---" "---" "---" "---" "---"

# pgl: images/s from `pgl bench --json` (sequential local-only and end-to-end epochs).
pgl_bench() {
    local name="$1" limit="$2"
    shift 2
    # `ce` aux heads, as the PyTorch reference trains (pgl's default objective is supcon).
    if timeout "$limit" "$PGL" bench --backend cuda --json --local-objective ce "$@" >"$WORK/$name.json" 2>"$WORK/$name.err"; then
        python3 - "$WORK/$name.json" "$name" <<'PY' | tee -a "$RESULTS"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | pgl (cuda) | {r['images_per_second']['sequential']:.0f} im/s | "
      f"{r['global_images_per_second']:.0f} im/s | batch {r['batch_size']}, {r['steps']} timed steps |")
PY
    else
        row "$name" "pgl (cuda)" "failed" "failed" "exit $?: $(tail -c 300 "$WORK/$name.err" | tr '\n|' '  ')"
    fi
}

torch_bench() {
    local name="$1" limit="$2"
    shift 2
    if ! timeout "$limit" python3 "$HERE/torch_reference.py" "$@" --name "$name" >>"$RESULTS" 2>"$WORK/$name-torch.err"; then
        row "$name" "PyTorch" "failed" "failed" "$(tail -c 300 "$WORK/$name-torch.err" | tr '\n|' '  ')"
    fi
    tail -1 "$RESULTS"
}

pgl_bench "MNIST CNN K=4" 150 --dataset mnist --data-dir "$KIT/mnist" --model cnn --aux-head pool2-1f --modules 4 \
    --batch-size 128 --steps 20 --warmup-steps 3
torch_bench "MNIST CNN K=4" 120 --model cnn --aux-head pool2-1f --modules 4 --batch-size 128 --steps 20
pgl_bench "ResNet-32 K=16" 240 --dataset cifar10 --data-dir "$WORK/cifar" --model resnet32 \
    --split infopro --aux-head 1c2f --modules 16 --batch-size 1024 --steps 8 --warmup-steps 2 \
    --optimizer sgd --lr 0.1
torch_bench "ResNet-32 K=16" 120 --model resnet32 --modules 16 --batch-size 1024 --steps 8

# Peak device memory of local and global steps (whole process, nvidia-smi), and accuracy.
for schedule in local-only end-to-end; do
    if peak_mib timeout 150 "$PGL" train --backend cuda --dataset mnist --data-dir "$KIT/mnist" \
        --model cnn --modules 4 --batch-size 128 --epochs 1 --schedule "$schedule" \
        --out "$WORK/run-$schedule" >"$WORK/train-$schedule.log" 2>&1; then
        accuracy="$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['test_accuracy'], 4))" "$WORK/run-$schedule/summary.json")"
        row "MNIST CNN K=4, 1 epoch, $schedule" "pgl (cuda)" "peak $(cat "$WORK/last-peak")" "-" "test accuracy $accuracy (peak = whole process, nvidia-smi)"
    else
        row "MNIST CNN K=4, 1 epoch, $schedule" "pgl (cuda)" "failed" "-" "$(tail -c 300 "$WORK/train-$schedule.log" | tr '\n|' '  ')"
    fi
done
echo "results: $RESULTS"
