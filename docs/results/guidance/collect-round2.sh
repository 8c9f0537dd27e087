#!/usr/bin/env bash
# Round 2 (issue 24): copies every stage's compare.md/compare.json of the Fashion-MNIST
# studies into this folder and rebuilds the joined tables and plots with summarize.py.
# Usage: docs/results/guidance/collect-round2.sh FASHION_DIR [RESNET_DIR]
#   FASHION_DIR: the OUT_DIR given to fashion-cnn-k8.sh (holding short/ and converged/);
#   RESNET_DIR: the OUT_DIR given to fashion-resnet32-k16.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fashion=$1 resnet=${2:-}
copy() { # copy SRC_DIR DEST_PREFIX
  [[ -f $1/compare.json ]] || return 0
  mkdir -p "$(dirname "$2")"
  cp "$1/compare.json" "$2.json"
  cp "$1/compare.md" "$2.md"
}
for budget in short converged; do
  [[ -f $fashion/$budget/base/compare.json ]] || continue
  labels=()
  for stage in "$fashion/$budget"/*/; do
    name=$(basename "$stage")
    copy "$stage" "$here/fashion-cnn-k8-$budget/$name"
    [[ $name != base && -f $stage/compare.json ]] && labels+=("$name=$stage")
  done
  python3 "$here/summarize.py" "$here/fashion-cnn-k8-$budget.md" "$fashion/$budget/base" "${labels[@]}"
done
if [[ -n $resnet && -f $resnet/base/compare.json ]]; then
  labels=()
  for stage in "$resnet"/*/; do
    name=$(basename "$stage")
    copy "$stage" "$here/fashion-resnet32-k16/$name"
    [[ $name != base && -f $stage/compare.json ]] && labels+=("$name=$stage")
  done
  python3 "$here/summarize.py" "$here/fashion-resnet32-k16.md" "$resnet/base" "${labels[@]}"
fi
