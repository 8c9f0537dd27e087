#!/usr/bin/env bash
# Exploration stage of the guidance study (issue 12) on a 10 000-image subset of MNIST:
# CNN, K = 8, 3 epochs, batch 128, Adam 1e-3 with a cosine learning-rate decay over the run,
# seeds 42-44 (the same data order and initial network per seed in every configuration; 237
# steps per run). Each knob gets its own `pgl compare` folder; summarize.py joins them against
# the baselines of `base`. `base-constant-lr` is the first try, with a constant learning rate:
# its local-only runs ended between 0.82 and 0.93 (the last epoch often lost accuracy), too
# noisy to rank policies, so every later stage decays the learning rate.
# Usage: docs/results/guidance/mnist-explore.sh [PGL_BINARY] [OUT_DIR] [STAGE...]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-mnist-explore}
shift 2 || true
stages=("$@")
data=${PGL_DATA_DIR:-../shared/data}/mnist
common=(--dataset mnist --data-dir "$data" --train-limit 10000 --model cnn --modules 8
  --epochs 3 --batch-size 128 --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3)
run() { # run NAME [FLAGS...]: one compare into $out/NAME unless it is already there
  local name=$1; shift
  if [[ ${#stages[@]} -gt 0 && ! " ${stages[*]} " == *" $name "* ]]; then return; fi
  [[ -f $out/$name/compare.json ]] && return
  "$pgl" compare "${common[@]}" --out "$out/$name" "$@"
}
# Baselines and today's guidance (shared optimizer state; 10 % and 25 % global steps).
run base-constant-lr --lr-schedule constant \
  --schedules end-to-end,local-only,periodic:every=10,periodic:every=4
run base --schedules end-to-end,local-only,periodic:every=4
# H1: global steps' updates drown in the local steps' Adam moments -> separate moments.
run separate --global-optimizer separate --schedules periodic:every=4
# H2: global steps are too weak -> larger learning rate for them (with separate moments).
run separate-lr2 --global-optimizer separate --global-lr-scale 2 --schedules periodic:every=4
# H3: local steps undo global steps through stale aux heads -> global steps train the heads.
run separate-aux1 --global-optimizer separate --aux-weight 1 --schedules periodic:every=4
run aux1 --aux-weight 1 --schedules periodic:every=4
# H4: contiguous global phases instead of single steps (25 %: 10 of every 40).
run separate-blocks --global-optimizer separate --schedules periodic:every=40,len=10
