#!/usr/bin/env bash
# The guidance study's acceptance runs (issue 12) on the full MNIST: CNN, K = 8, 3 epochs,
# batch 128 (1407 steps per run), Adam 1e-3 decayed by a cosine over the run, seeds 42-44 (per seed the same
# data order and initial network in every configuration). `base` holds the baselines (and
# today's guidance with shared optimizer state); each other stage one policy.
# Usage: docs/results/guidance/mnist-k8.sh [PGL_BINARY] [OUT_DIR] [STAGE...]
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-mnist-k8}
shift 2 || true
stages=("$@")
data=${PGL_DATA_DIR:-../shared/data}/mnist
common=(--dataset mnist --data-dir "$data" --model cnn --modules 8
  --epochs 3 --batch-size 128 --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3)
run() { # run NAME [FLAGS...]: one compare into $out/NAME unless it is already there
  local name=$1; shift
  if [[ ${#stages[@]} -gt 0 && ! " ${stages[*]} " == *" $name "* ]]; then return; fi
  [[ -f $out/$name/compare.json ]] && return
  # An interrupted stage is finished as planned (complete runs kept).
  if [[ -f $out/$name/compare-plan.json ]]; then
    "$pgl" compare --resume "$out/$name"
    return
  fi
  # `ce` (the default when these runs were made) unless the stage names an objective.
  local objective=(--local-objective ce)
  [[ " $* " == *" --local-objective "* ]] && objective=()
  # `pool2-1f` heads (the CNN's default when these runs were made) unless the stage names one.
  local head=(--aux-head pool2-1f)
  [[ " $* " == *" --aux-head "* ]] && head=()
  "$pgl" compare "${common[@]}" "${objective[@]}" "${head[@]}" --out "$out/$name" "$@"
}
run base --schedules end-to-end,local-only
# The default guidance (README.md in this folder): 25 % global steps, one in every 4, that
# also train the aux heads (aux weight 1), optimizer state shared with the local steps.
run default --aux-weight 1 --global-lr-scale 1 --global-optimizer shared --schedules periodic:every=4
# Issue 24's candidate default: the supervised contrastive local objective with the default
# guidance (it beats today's default on Fashion-MNIST with the CNN and at ResNet-32 K = 16).
run supcon --local-objective supcon --schedules periodic:every=4
# The configuration that passes issue 24's 70 % bar with the CNN on Fashion-MNIST: supcon with
# InfoPro's 1c2f heads and the default guidance (the MNIST check before a head default changes).
run supcon-1c2f --local-objective supcon --aux-head 1c2f --schedules periodic:every=4
