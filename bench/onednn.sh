#!/usr/bin/env bash
# oneDNN's own speed on the roofline table's convolution shapes (docs/perf.md, issue 20 item 2):
# compiles bench/onednn_conv.c against Debian's oneDNN and runs it on one thread and on every
# core, printing a markdown table (GFLOP/s). Run it on a quiet machine:
#   bench/onednn.sh > onednn.md
# Needs gcc and `apt-get install libdnnl-dev` (oneDNN 2.6.3, OpenMP threading). Not part of CI
# or any test.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -o "$WORK/onednn_conv" bench/onednn_conv.c -ldnnl
cores="$(nproc)"
echo "# onednn, $(date -u +%Y-%m-%dT%H:%MZ), $cores cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
OMP_NUM_THREADS=1 "$WORK/onednn_conv" >"$WORK/one.jsonl"
OMP_NUM_THREADS="$cores" "$WORK/onednn_conv" >"$WORK/all.jsonl"
python3 - "$WORK" "$cores" <<'PY'
import json, sys
work, cores = sys.argv[1], sys.argv[2]
one = [json.loads(line) for line in open(f"{work}/one.jsonl")]
every = [json.loads(line) for line in open(f"{work}/all.jsonl")]
print(f"| shape | pass | NCHW 1 thread | NCHW {cores} threads | blocked 1 thread | blocked {cores} threads | implementation |")
print("|---|---|---:|---:|---:|---:|---|")
for a, b in zip(one, every):
    for name, key in (("forward", "forward"), ("forward-backward", "forward_backward")):
        print(f"| {a['shape']} | {name} | {a['nchw_' + key]:.0f} | {b['nchw_' + key]:.0f} | "
              f"{a['blocked_' + key]:.0f} | {b['blocked_' + key]:.0f} | {a['impl']} |")
PY
