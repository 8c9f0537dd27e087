#!/usr/bin/env bash
# Copies every stage's compare.md/compare.json of the study's run folders into this folder and
# rebuilds the joined tables and plots with summarize.py.
# Usage: docs/results/guidance/collect.sh EXPLORE_DIR K8_DIR DIGITS_DIR MEMORY_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
explore=$1 k8=$2 digits=$3 memory=$4
copy() { # copy SRC_DIR DEST_PREFIX
  [[ -f $1/compare.json ]] || return 0
  mkdir -p "$(dirname "$2")"
  cp "$1/compare.json" "$2.json"
  cp "$1/compare.md" "$2.md"
}
for stage in "$explore"/*/; do copy "$stage" "$here/mnist-explore/$(basename "$stage")"; done
for stage in "$k8"/*/; do copy "$stage" "$here/mnist-k8/$(basename "$stage")"; done
for stage in "$digits"/*/; do copy "$stage" "$here/digits/$(basename "$stage")"; done
for stage in "$memory"/*/; do copy "$stage" "$here/memory/$(basename "$stage")"; done
labels=()
for stage in separate lr2 aux1 final-quarter share blocks; do
  [[ -f $explore/$stage/compare.json ]] && labels+=("$stage=$explore/$stage")
done
python3 "$here/summarize.py" "$here/mnist-explore.md" "$explore/base" "${labels[@]}"
python3 "$here/summarize.py" "$here/mnist-explore-constant-lr.md" "$explore/base-constant-lr"
objective_labels=("aux1=$explore/aux1")
for objective in infopro supcon; do
  [[ -f $explore/objectives-$objective/compare.json ]] &&
    objective_labels+=("$objective=$explore/objectives-$objective")
done
python3 "$here/summarize.py" "$here/mnist-objectives.md" "$explore/base" "${objective_labels[@]}"
k8_labels=()
[[ -f $k8/default/compare.json ]] && k8_labels+=("default=$k8/default")
[[ -f $k8/supcon/compare.json ]] && k8_labels+=("supcon=$k8/supcon")
[[ -f $k8/supcon-1c2f/compare.json ]] && k8_labels+=("supcon-1c2f=$k8/supcon-1c2f")
python3 "$here/summarize.py" "$here/mnist-k8.md" "$k8/base" "${k8_labels[@]}"
python3 "$here/summarize.py" "$here/digits-cnn.md" "$digits/cnn" "default=$digits/cnn-default"
python3 "$here/summarize.py" "$here/digits-mlp.md" "$digits/mlp"
