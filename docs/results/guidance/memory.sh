#!/usr/bin/env bash
# Peak memory of global steps with the bounded-memory options (issue 12), as `pgl compare`
# reports it per step kind: MNIST CNN K = 8 and 4, batch 128, 2048 training images, one epoch,
# seed 42, the default guidance (periodic:every=4), plain / --global-checkpointing (both rows
# of one compare) and --global-microbatch 4.
# Usage: docs/results/guidance/memory.sh [PGL_BINARY] [OUT_DIR]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-memory}
data=${PGL_DATA_DIR:-../shared/data}/mnist
common=(--dataset mnist --data-dir "$data" --train-limit 2048 --test-limit 1000 --model cnn
  --aux-head pool2-1f --modules 4,8 --epochs 1 --batch-size 128 --local-objective ce --aux-weight 1 --schedules periodic:every=4)
[[ -f $out/checkpointing/compare.json ]] ||
  "$pgl" compare "${common[@]}" --global-checkpointing both --out "$out/checkpointing"
[[ -f $out/microbatch4/compare.json ]] ||
  "$pgl" compare "${common[@]}" --global-microbatch 4 --out "$out/microbatch4"
