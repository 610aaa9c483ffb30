"""Evaluation outputs: JSON-safe results, the markdown table and the PNG plots (matplotlib, Agg).

JSON has no infinity: :func:`json_safe` writes ``inf`` as the string ``"inf"`` (PSNR of exact
frames) and NaN as ``null``; the markdown table shows ``∞`` and ``–``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import require_tool
from ..io.atomic import atomic_file

# (key, column title, digits, better) — better: "low" or "high"
TABLE_COLUMNS = (
    ("rot_err_deg", "RotErr (°) ↓", 2, "low"),
    ("trans_err", "TransErr ↓", 3, "low"),
    ("psnr", "PSNR ↑", 2, "high"),
    ("ssim", "SSIM ↑", 3, "high"),
    ("psnr_visible", "PSNR vis ↑", 2, "high"),
    ("ssim_visible", "SSIM vis ↑", 3, "high"),
    ("psnr_covered", "PSNR cov ↑", 2, "high"),
    ("psnr_recoverable", "PSNR recov ↑", 2, "high"),
    ("psnr_unseen", "PSNR unseen ↑", 2, "high"),
    ("sharpness_ratio", "sharp ÷ GT ↑", 2, "high"),
    ("flicker", "flicker ↓", 2, "low"),
    ("median_px", "4D median px ↓", 2, "low"),
    ("within_4px", "4D ≤4px ↑", 3, "high"),
    ("generate_seconds", "gen s/clip", 1, "low"),
)
GROUPS = ("static", "dynamic")
GROUP_COLOURS = {"static": "#4C72B0", "dynamic": "#DD8452"}
POSE_ESTIMATOR_NOTES = {  # how each ``--pose-estimator`` finds the generated video's camera (harness.POSE_ESTIMATORS)
    "colmap": "pycolmap incremental mapping (SIFT, sequential matching) on the generated video",
    "tracks": "our flow tracks + tracks-based camera solve on the generated video",
}


def json_safe(value):
    """A copy of ``value`` with non-finite floats made JSON-safe: ±inf → "inf"/"-inf", NaN → None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def as_number(value) -> float:
    """A results value back as a float: "inf" → inf, None → nan."""
    if value is None:
        return float("nan")
    if isinstance(value, str):
        return float(value)
    return float(value)


def write_results(results: dict, path: Path) -> None:
    """``results`` (already :func:`json_safe`) as strict JSON, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(results, indent=1, allow_nan=False))


def _cell(value, digits: int) -> str:
    v = as_number(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"{v:.{digits}f}"


def markdown_table(results: dict) -> str:
    """The summary as markdown: one row per method × kind; missing/failed methods listed below."""
    head = ["method", "kind", "cases", *[c[1] for c in TABLE_COLUMNS], "pose fail / unreg. frames / rot.-only"]
    estimator = results["config"].get("pose_estimator", "colmap")
    lines = [f"Track2View evaluation — suite `{results['config']['suite']}`, "
             f"{len(results['cases'])} cases, {results['wall_seconds']:.0f} s, camera poses: `{estimator}`", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, groups in results["summary"].items():
        for group in GROUPS:
            g = groups[group]
            if not g["cases"]:
                continue
            cells = [name, group, str(g["cases"] - g["failed"]) + (f" ({g['failed']} failed)" if g["failed"] else "")]
            cells += [_cell(g[key], digits) for key, _, digits, _ in TABLE_COLUMNS]
            cells.append(f"{g['pose_failures']} / {g['unregistered_frames']} / {g.get('rotation_only_poses', 0)}")
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, info in results["methods"].items():
        if info["status"] == "missing":
            lines.append(f"- **{name}: missing** — {info['reason']}")
        errors = [c["methods"][name]["error"] for c in results["cases"]
                  if c["methods"].get(name, {}).get("status") == "failed"]
        if errors:
            lines.append(f"- **{name}: failed on {len(errors)} case(s)** — first error: {errors[0]}")
    lines += ["", f"RotErr/TransErr: CamI2V protocol, summed over frames (poses by {POSE_ESTIMATOR_NOTES[estimator]}, "
              "relative to frame 0, translations / their largest). PSNR/SSIM vs ground-truth target "
              "frames; 'vis' = target pixels the source camera sees. 4D: our 2D tracker on the output vs "
              "ground-truth target tracks. pose fail = videos the pose estimator could not reconstruct; unreg. "
              "frames = frames it left out (they take the nearest frame's pose); rot.-only = videos whose estimated camera "
              "only rotates (no parallax found: TransErr is then the true path's length).", "",
              "| stage | wall s | CPU s | calls | wall s/call | peak RSS MiB |", "|---|---|---|---|---|---|"]
    for stage, s in results["stages"].items():
        lines.append(f"| {stage} | {s['seconds']:.1f} | {s['cpu_seconds']:.1f} | {s['calls']} | "
                     f"{s['seconds_per_call']:.2f} | "
                     f"{s['peak_rss_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def plot_metrics(results: dict, path: Path) -> None:
    """One bar chart per metric (methods on the x axis, static and dynamic bars side by side)."""
    require_tool("matplotlib", "the evaluation plots").use("Agg")
    import matplotlib.pyplot as plt

    methods = list(results["summary"])
    cols = 3
    rows = math.ceil(len(TABLE_COLUMNS) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    x = np.arange(len(methods))
    width = 0.38
    for ax, (key, title, digits, _) in zip(axes.ravel(), TABLE_COLUMNS, strict=False):
        values = {g: np.array([as_number(results["summary"][m][g][key]) for m in methods]) for g in GROUPS}
        finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
        top = float(finite.max()) * 1.2 if len(finite) and finite.max() > 0 else 1.0
        for k, group in enumerate(GROUPS):
            v = values[group]
            # Infinite values (exact PSNR) fill the axis, hatched; NaN (no data) are empty.
            heights = np.where(np.isinf(v), top, np.where(np.isfinite(v), v, 0.0))
            bars = ax.bar(x + (k - 0.5) * width, heights, width, label=group, color=GROUP_COLOURS[group])
            for bar, value in zip(bars, v, strict=True):
                if np.isinf(value):
                    bar.set_hatch("//")
                label = "∞" if np.isinf(value) else ("–" if np.isnan(value) else f"{value:.{digits}f}")
                y = min(bar.get_height(), top * 0.93)
                ax.annotate(label, (bar.get_x() + bar.get_width() / 2, y), ha="center", va="bottom",
                            fontsize=10 if np.isinf(value) else 7,
                            bbox={"fc": "white", "ec": "none", "pad": 0.5} if np.isinf(value) else None)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(x, methods, fontsize=8)
        ax.set_ylim(0, top)
    for ax in axes.ravel()[len(TABLE_COLUMNS):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    missing = [m for m, info in results["methods"].items() if info["status"] == "missing"]
    fig.suptitle(f"suite {results['config']['suite']}: {len(results['cases'])} cases"
                 + (f" — missing: {', '.join(missing)}" if missing else ""), fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_strip(frames_by_method: dict[str, np.ndarray], title: str, path: Path) -> None:
    """Rows = ground truth then each method, columns = first / middle / last frame (3, H, W, 3) uint8."""
    require_tool("matplotlib", "the evaluation plots").use("Agg")
    import matplotlib.pyplot as plt

    rows = list(frames_by_method)
    fig, axes = plt.subplots(len(rows), 3, figsize=(6.6, 2.2 * len(rows)), squeeze=False)
    for r, name in enumerate(rows):
        for c, label in enumerate(("first", "middle", "last")):
            ax = axes[r, c]
            ax.imshow(frames_by_method[name][c])
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
            if r == 0:
                ax.set_title(f"{label} frame", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
