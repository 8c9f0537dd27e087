#!/usr/bin/env bash
# The guidance study on the embedded 8x8 digits (issue 12): CNN and MLP, K = 4 and 8, 10
# epochs, batch 64, Adam 1e-3 with a cosine learning-rate decay, seeds 42-44, shared optimizer
# state; local-only, end-to-end and 10 % / 25 % global steps spread evenly (aux weight 0), and
# the default guidance (25 %, aux weight 1) on the CNN at K = 8.
# Usage: docs/results/guidance/digits.sh [PGL_BINARY] [OUT_DIR]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-digits}
# The objective and the CNN's heads are the defaults of when these runs were made.
for model in cnn mlp; do
  [[ -f $out/$model/compare.json ]] && continue
  head=()
  [[ $model == cnn ]] && head=(--aux-head pool2-1f)
  "$pgl" compare --dataset digits --model "$model" "${head[@]}" --modules 4,8 --epochs 10 --batch-size 64 --local-objective ce \
    --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3 --out "$out/$model" \
    --aux-weight 0 --schedules end-to-end,local-only,periodic:every=10,periodic:every=4
done
[[ -f $out/cnn-default/compare.json ]] ||
  "$pgl" compare --dataset digits --model cnn --aux-head pool2-1f --modules 8 --epochs 10 --batch-size 64 --local-objective ce \
    --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3 --out "$out/cnn-default" \
    --aux-weight 1 --schedules periodic:every=4
