#!/usr/bin/env bash
# Round 2 (issue 24): copies every stage's compare.md/compare.json of the Fashion-MNIST
# studies into this folder and rebuilds the joined tables and plots with summarize.py.
# Usage: docs/results/guidance/collect-round2.sh FASHION_DIR [RESNET_DIR]
#   FASHION_DIR: the OUT_DIR given to fashion-cnn-k8.sh (holding short/ and converged/);
#   RESNET_DIR: the OUT_DIR given to fashion-resnet32-k16.sh (stages timing-seeds* run on seeds
#   45-47 and are joined apart, against their own baselines: fashion-resnet32-k16-seeds45.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fashion=$1 resnet=${2:-}
copy() { # copy SRC_DIR DEST_PREFIX
  [[ -f $1/compare.json ]] || return 0
  mkdir -p "$(dirname "$2")"
  cp "$1/compare.json" "$2.json"
  cp "$1/compare.md" "$2.md"
}
join() { # join STUDY_DIR NAME: copy STUDY_DIR's stages to NAME/ and write NAME.md/.svg
  local study=$1 name=$2 labels=() stage stage_name
  [[ -f $study/base/compare.json ]] || return 0
  for stage in "$study"/*/; do
    stage_name=$(basename "$stage")
    # Stages on other seeds carry their own baselines: joined apart (below).
    [[ $stage_name == timing-seeds* ]] && continue
    copy "$stage" "$here/$name/$stage_name"
    if [[ $stage_name != base && -f $stage/compare.json ]]; then
      labels+=("$stage_name=$stage")
    fi
  done
  python3 "$here/summarize.py" "$here/$name.md" "$study/base" "${labels[@]}"
}
for budget in short converged; do join "$fashion/$budget" "fashion-cnn-k8-$budget"; done
if [[ -n $resnet ]]; then
  join "$resnet" fashion-resnet32-k16
  # Seeds 45-47 (the timing finding), against their own end-to-end and local-only runs.
  if [[ -f $resnet/timing-seeds/compare.json ]]; then
    copy "$resnet/timing-seeds" "$here/fashion-resnet32-k16-seeds45/timing-seeds"
    labels=()
    if [[ -f $resnet/timing-seeds-4/compare.json ]]; then
      copy "$resnet/timing-seeds-4" "$here/fashion-resnet32-k16-seeds45/timing-seeds-4"
      labels+=("timing-seeds-4=$resnet/timing-seeds-4")
    fi
    python3 "$here/summarize.py" "$here/fashion-resnet32-k16-seeds45.md" \
      "$resnet/timing-seeds" "${labels[@]}"
  fi
fi
