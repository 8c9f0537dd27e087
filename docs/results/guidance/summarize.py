#!/usr/bin/env python3
"""Joins several `pgl compare` folders of one study into one table and one plot.

Usage: summarize.py OUT.md BASE_DIR [LABEL=DIR ...]

BASE_DIR's compare.json must hold the `end-to-end` and `local-only` rows (per K, local
objective `ce`); every other row (other folders, other objectives) is measured against them: "gap recovered" = (acc - local-only) / (end-to-end -
local-only), from the means over seeds, and also per seed (paired: same seed, same initial
network and data order) as mean ± std. A folder that has its own `local-only` row (other
heads, say) also gets "of its own gap": the same ratio against that row instead of base's. Writes OUT.md and OUT.svg (accuracy vs share of global
steps, error bars = one standard deviation). Standard library only.
"""

import json
import statistics
import sys
from pathlib import Path


def load(folder):
    return json.loads((Path(folder) / "compare.json").read_text())


def mean_std(values):
    if len(values) < 2:
        return values[0], 0.0
    return statistics.mean(values), statistics.stdev(values)


def rows_of(label, data):
    """One row per configuration: label, schedule, K, share, per-seed accuracies, seconds, peaks."""
    rows = []
    for config in data["configurations"]:
        objective = config.get("objective", "ce")
        runs = [
            r
            for r in data["runs"]
            if r["schedule"] == config["schedule"]
            and r["modules"] == config["modules"]
            and r["global_checkpointing"] == config["global_checkpointing"]
            and r.get("objective", "ce") == objective
        ]
        rows.append(
            {
                "label": label
                if objective == "ce"
                else objective
                if label == objective.split(":")[0]
                else f"{label} {objective}",
                "objective": objective,
                "schedule": config["schedule"],
                "modules": config["modules"],
                "share": config["global_step_share"],
                "acc": {r["seed"]: r["test_accuracy"] for r in runs},
                "seconds": config["train_seconds"],
                "peak_local": config["peak_memory_bytes_local"],
                "peak_global": config["peak_memory_bytes_global"],
            }
        )
    return rows


def mib(value):
    return "-" if value is None else f"{value / 2**20:.1f}"


def main():
    out = Path(sys.argv[1])
    base_dir = sys.argv[2]
    rows = rows_of("base", load(base_dir))
    for item in sys.argv[3:]:
        label, folder = item.split("=", 1)
        rows.extend(rows_of(label, load(folder)))
    own_local = {
        (row["label"], row["modules"], row["objective"]): row["acc"]
        for row in rows
        if row["label"] != "base" and row["schedule"] == "local-only"
    }
    baselines = {}
    for row in rows:
        if (
            row["label"] == "base"
            and row["objective"] == "ce"
            and row["schedule"] in ("end-to-end", "local-only")
        ):
            baselines[(row["modules"], row["schedule"])] = row["acc"]
    lines = [
        f"Baselines from stage `{Path(base_dir).name}`; gap recovered = (acc - local-only) / (end-to-end - "
        "local-only): from the means, and per seed (paired) as mean ± std.",
        "",
        "| knobs | schedule | K | global share | test acc (mean ± std) | n | gap recovered "
        "| gap recovered per seed | of its own gap | per-seed acc | train s "
        "| local / global step peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    points = []
    for row in rows:
        seeds = sorted(row["acc"])
        accs = [row["acc"][s] for s in seeds]
        mean, std = mean_std(accs)
        e2e = baselines.get((row["modules"], "end-to-end"), {})
        local = baselines.get((row["modules"], "local-only"), {})
        gap, paired = "-", "-"
        if e2e and local:
            e2e_mean = statistics.mean(e2e.values())
            local_mean = statistics.mean(local.values())
            if e2e_mean != local_mean:
                gap = f"{(mean - local_mean) / (e2e_mean - local_mean):.0%}"
            per_seed = [
                (row["acc"][s] - local[s]) / (e2e[s] - local[s])
                for s in seeds
                if s in e2e and s in local and e2e[s] != local[s]
            ]
            if per_seed:
                m, sd = mean_std(per_seed)
                paired = f"{m:.0%} ± {sd:.0%}"
        own = "-"
        own_acc = own_local.get((row["label"], row["modules"], row["objective"]))
        if own_acc and e2e and row["schedule"] != "local-only":
            own_mean = statistics.mean(own_acc.values())
            e2e_mean = statistics.mean(e2e.values())
            if e2e_mean != own_mean:
                own = f"{(mean - own_mean) / (e2e_mean - own_mean):.0%}"
        lines.append(
            f"| {row['label']} | `{row['schedule']}` | {row['modules']} | {row['share']:.1%} "
            f"| {mean:.4f} ± {std:.4f} | {len(accs)} | {gap} | {paired} | {own} "
            f"| {' '.join(f'{a:.4f}' for a in accs)} | {row['seconds']:.0f} "
            f"| {mib(row['peak_local'])} / {mib(row['peak_global'])} |"
        )
        points.append((row["share"], mean, std, f"{row['label']} {row['schedule']}"))
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".svg").write_text(svg(points))


def svg(points):
    """Accuracy vs share of global steps, one dot with an error bar per configuration."""
    width, height, pad = 760, 420, 60
    low = min(m - s for _, m, s, _ in points)
    high = max(m + s for _, m, s, _ in points)
    span = max(high - low, 1e-3)

    def x(share):
        return pad + share * (width - 2 * pad)

    def y(acc):
        return height - pad - (acc - low) / span * (height - 2 * pad)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 15}" text-anchor="middle">share of global steps</text>',
        f'<text x="15" y="{height / 2}" transform="rotate(-90 15 {height / 2})" '
        'text-anchor="middle">test accuracy (mean ± std over seeds)</text>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{x(tick)}" y="{height - pad + 15}" text-anchor="middle">{tick:.0%}</text>'
        )
    for i in range(5):
        acc = low + span * i / 4
        parts.append(f'<text x="{pad - 5}" y="{y(acc) + 4}" text-anchor="end">{acc:.3f}</text>')
    for i, (share, mean, std, label) in enumerate(points):
        cx = x(share) + (i % 5 - 2) * 4  # small offsets keep equal shares apart
        parts.append(
            f'<line x1="{cx}" y1="{y(mean - std)}" x2="{cx}" y2="{y(mean + std)}" stroke="gray"/>'
        )
        parts.append(f'<circle cx="{cx}" cy="{y(mean)}" r="3"><title>{label}: {mean:.4f} ± '
                     f'{std:.4f}</title></circle>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
