#!/usr/bin/env bash
# Guidance study, round 2 (issue 24), main regime: Fashion-MNIST, CNN, K = 8, batch 128,
# Adam 1e-3 with a cosine decay over the run, seeds 42-44 (per seed the same data order and
# initial network in every configuration). Two budgets:
#   short:     the first 20 000 training images x 2 epochs (314 steps; the table);
#   converged: the first 5 000 training images x 20 epochs (800 steps; tested on the first
#              5 000 test images), where local-only has stopped improving, so the gap
#              measures generalization (sized for the 2-core CPU).
# Every knob not named is pgl's default of the time (periodic:every=4, aux weight 1, shared
# optimizer state, global LR scale 1, no replay, the model's default pool2-1f heads, the `ce`
# local objective, passed explicitly since `supcon` became the default).
# Each stage is one `pgl compare` folder; summarize.py joins them against `base`.
# Usage: docs/results/guidance/fashion-cnn-k8.sh [PGL_BINARY] [OUT_DIR] [BUDGET] [STAGE...]
#   BUDGET: short (default) or converged.
set -euo pipefail
pgl=${1:-pgl}
out=${2:-runs/guidance-fashion-cnn-k8}
budget=${3:-short}
shift 3 || true
stages=("$@")
data=${PGL_DATA_DIR:-../shared/data}/fashion-mnist
case $budget in
  short) sizes=(--train-limit 20000 --epochs 2) ;;
  converged) sizes=(--train-limit 5000 --epochs 20 --test-limit 5000) ;;
  *) echo "unknown budget $budget (short|converged)" >&2; exit 2 ;;
esac
out=$out/$budget
common=(--dataset fashion-mnist --data-dir "$data" --model cnn --modules 8
  --batch-size 128 --lr 1e-3 --lr-schedule cosine --optimizer adam --seeds 3)
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
  "$pgl" compare "${common[@]}" "${objective[@]}" "${head[@]}" "${run_sizes[@]:-${sizes[@]}}" --out "$out/$name" "$@"
}
run_sizes=()
# Baselines, the default guidance (25 % global steps) and 50 % global steps.
run base --schedules end-to-end,local-only,periodic:every=4,periodic:every=2
# The share of global steps: 10 % and 33 %.
run share --schedules periodic:every=10,periodic:every=3
# Combinations the first round left untried: a larger global LR with aux weight 1.
run lr2 --global-lr-scale 2 --schedules periodic:every=4
run lr4 --global-lr-scale 4 --schedules periodic:every=4
# Diagnostic: end-to-end training on a quarter of the steps (the global steps of the default
# alone, without the local steps between them): a quarter of the images, same epochs.
run_sizes=(--train-limit "$((${sizes[1]} / 4))" "${sizes[@]:2}")
run e2e-quarter --schedules end-to-end
run_sizes=()
# The same 25 % in blocks of 10 global steps in every 40, instead of one in every 4.
run blocks --schedules periodic:every=40,len=10
# Heads that see further: InfoPro's 1c2f (conv + two linear layers) and DGL's mlp-sr,
# local-only and guided (end-to-end does not use aux heads).
run head-1c2f --aux-head 1c2f --schedules local-only,periodic:every=4
run head-mlp-sr --aux-head mlp-sr --schedules local-only,periodic:every=4
# Other local objectives, with and without the default guidance.
run obj-supcon --local-objective supcon --schedules local-only,periodic:every=4
run obj-infopro --local-objective infopro --schedules local-only,periodic:every=4
# Global-gradient replay (--global-replay BETA): local steps add BETA times the latest
# global step's gradient to their own.
run replay-0.5 --global-replay 0.5 --schedules periodic:every=4
run replay-1 --global-replay 1 --schedules periodic:every=4
run replay-3 --global-replay 3 --schedules periodic:every=4
# Global steps' aux losses train the aux heads only (the modules learn from the classifier's
# loss alone in global steps).
run aux-detach --global-aux-detach --schedules periodic:every=4
# Hand training over from local to global steps: local steps' learning rate decays by an extra
# cosine factor (local steps end at zero, global steps at the ordinary schedule's rate).
run local-lr-cosine --local-lr-schedule cosine --schedules periodic:every=4
run local-lr-cosine-lr4 --local-lr-schedule cosine --global-lr-scale 4 --schedules periodic:every=4
# Partial global steps through the top 4 of the 8 modules: as often as full ones, and twice
# as often (50 % of the steps then cross a module boundary: counted as global).
run partial-d4 --global-depth 4 --schedules periodic:every=4,periodic:every=2
# The head is the largest lever found: InfoPro's 1c2f heads with a larger global LR, and with
# 50 % global steps (the share curve with these heads).
run h1c2f-lr4 --aux-head 1c2f --global-lr-scale 4 --schedules periodic:every=4
run h1c2f-share --aux-head 1c2f --schedules periodic:every=2,periodic:every=10
# AugLocal's heads (issue 24's "heads that see further"): each head copies the shapes of
# blocks sampled from the rest of the network (aug3: up to 3, fewer near the top; aug1: one),
# local-only and guided.
run head-aug3 --aux-head aug3 --schedules local-only,periodic:every=4
run head-aug1 --aux-head aug1 --schedules local-only,periodic:every=4
# With aug3 heads, 50 % global steps: does more guidance add to heads that already see
# further?
run h-aug3-share --aux-head aug3 --schedules periodic:every=2
# Adaptive guidance from the module heads (schedule `lagging`): a global step when the
# classifier's loss exceeds the best aux head's by more than a margin (moving average, factor
# 0.9), at least 2 and at most 8 local steps apart; margins 0, 0.1 and -0.1.
run lagging --schedules lagging,lagging:margin=0.1,lagging:margin=-0.1
# Synthetic gradients trained by the global steps (DNI; --synthetic-gradient ALPHA): each
# module's linear predictor of the global loss's gradient at its output, trained in global
# steps, adds ALPHA times its prediction to the module's gradient in local steps.
run synthetic-0.3 --synthetic-gradient 0.3 --schedules periodic:every=4
run synthetic-1 --synthetic-gradient 1 --schedules periodic:every=4
run synthetic-3 --synthetic-gradient 3 --schedules periodic:every=4
# Lagging with at most 4 local steps between global steps (a share near the default's 25 %).
run lagging-4 --schedules lagging:max_gap=4
# The two largest levers found together (sixth session): the contrastive objective with the
# better heads (its projection head copies the aux head's design), local-only and guided.
run supcon-mlp-sr --local-objective supcon --aux-head mlp-sr --schedules local-only,periodic:every=4
run supcon-1c2f --local-objective supcon --aux-head 1c2f --schedules local-only,periodic:every=4
