#!/usr/bin/env bash
# The roofline table of docs/perf.md (issue 20, item 1): this CPU's limits and every 3x3
# convolution shape of the MNIST CNN and CIFAR ResNet-32 (batch 128), pgl against PyTorch, in
# GFLOP/s, on one thread and on every core. Run it on a quiet machine (nothing else running):
#   bench/roofline.sh > roofline.md
# Needs the PyTorch venv of bench/torch_conv_shapes.py (~/.cache/pgl/torch-venv); the pgl side
# is `cargo bench -p pgl-burn --bench roofline`. Not part of CI or any test.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PGL_TORCH_VENV:-$HOME/.cache/pgl/torch-venv}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
criterion=(-- --measurement-time 3 --warm-up-time 1)
echo "# roofline, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo bench -q -p pgl-burn --bench roofline "${criterion[@]}" >"$WORK/pgl-all.txt" 2>&1
RAYON_NUM_THREADS=1 cargo bench -q -p pgl-burn --bench roofline "${criterion[@]}" roofline-conv \
    >"$WORK/pgl-1.txt" 2>&1
"$VENV/bin/python" bench/torch_conv_shapes.py --json 2>/dev/null >"$WORK/torch.json"
python3 - "$WORK" "$(nproc)" <<'PY'
import json, re, sys
work, cores = sys.argv[1], int(sys.argv[2])

def criterion(path):
    """{benchmark name: median throughput in G/s (GFLOP/s or GiB/s)}"""
    out, name = {}, None
    for line in open(path):
        if line and not line[0].isspace():
            name = line.split()[0]
        m = re.search(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+)", line)
        if m and name:
            value, unit = float(m.group(1)), m.group(2)
            out[name] = value / 1000 if unit.startswith("Melem") else value
    return out

every, one = criterion(f"{work}/pgl-all.txt"), criterion(f"{work}/pgl-1.txt")
torch = json.load(open(f"{work}/torch.json"))
peak1 = max(v for k, v in every.items() if k.startswith("peak/fma-loop") and k.endswith("/1-threads"))
peakn = max(v for k, v in every.items() if k.startswith("peak/fma-loop") and k.endswith(f"/{cores}-threads"))
print(f"PyTorch {torch['torch']}. Machine: FMA loop {peak1:.0f} GFLOP/s on 1 thread, {peakn:.0f} on {cores}; "
      f"gemm 1024: {every['peak/gemm-1024/1-threads']:.0f} / {every[f'peak/gemm-1024/{cores}-threads']:.0f}; "
      f"triad {every['peak/triad/1-threads']:.1f} / {every[f'peak/triad/{cores}-threads']:.1f} GiB/s.\n")
print(f"| shape (Cin x side -> Cout, stride) | pass | pgl 1 thread | PyTorch 1 thread | pgl {cores} threads | PyTorch {cores} threads | pgl {cores}t % of peak |")
print("|---|---|---:|---:|---:|---:|---:|")
rows = {(r["shape"], r["threads"]): r for r in torch["rows"]}
for key in [k for k in every if k.startswith("roofline-conv/")]:
    shape, _, passname = key.split("/")[1:]
    field = "forward_gflops" if passname == "forward" else "forward_backward_gflops"
    p1, pn = one.get(key, float("nan")), every[key]
    t1, tn = rows[(shape, 1)][field], rows[(shape, cores)][field]
    print(f"| {shape} | {passname} | {p1:.0f} | {t1:.0f} | {pn:.0f} | {tn:.0f} | {100 * pn / peakn:.0f} % |")
PY
