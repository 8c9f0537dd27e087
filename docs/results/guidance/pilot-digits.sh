#!/usr/bin/env bash
# Pilot of the guidance study on the embedded digits (CNN, K = 8, 10 epochs, batch 64, Adam
# 1e-3, constant LR, seeds 42-44): every number in pilot-digits.md comes from this script.
# Usage: docs/results/guidance/pilot-digits.sh [PGL_BINARY] [OUT_DIR]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-pilot-digits}
# The objective and heads are the defaults of when these runs were made.
common=(--modules 8 --seeds 3 --epochs 10 --local-objective ce --aux-head pool2-1f)
# A: share of global steps spread evenly (0, 10, 25 and 100 %).
"$pgl" compare "${common[@]}" --out "$out/a-share" \
  --schedules end-to-end,local-only,periodic:every=10,periodic:every=4
# B: where the global steps go: fewer (5 %), in blocks of 10 (25 %), or all at the end
# (the last 2 of 10 epochs, 20 %).
"$pgl" compare "${common[@]}" --out "$out/b-placement" \
  --schedules "end-to-end,local-only,periodic:every=20,periodic:every=40,len=10,periodic:every=10,len=2,unit=epochs"
