#!/usr/bin/env bash
# Local objectives with and without guidance (issues 12 and 13) on the 10 000-image MNIST
# subset of mnist-explore.sh (CNN, K = 8, 3 epochs, batch 128, Adam 1e-3, cosine LR, seeds
# 42-44): `infopro` (InfoPro's K = 8 weights, reconstruction + cross-entropy) and `supcon`,
# each local-only and with the default guidance (25 % global steps that also train the aux
# heads). The `ce` rows are mnist-explore.sh's `base` (local-only) and `aux1` (guided).
# Usage: docs/results/guidance/mnist-objectives.sh [PGL_BINARY] [OUT_DIR]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-mnist-explore}
data=${PGL_DATA_DIR:-../shared/data}/mnist
for objective in infopro supcon; do
  [[ -f $out/objectives-$objective/compare.json ]] && continue
  "$pgl" compare --dataset mnist --data-dir "$data" --train-limit 10000 --model cnn --modules 8 \
    --aux-head pool2-1f --epochs 3 --batch-size 128 --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3 \
    --out "$out/objectives-$objective" --local-objective "$objective" --aux-weight 1 \
    --schedules local-only,periodic:every=4
done
