"""Curation accuracy against synthetic ground truth: precision within 2/4 px and recall, static vs dynamic.

Clips: bench-sized synthetic clips (3 cameras, 25 frames, 256x256, 16 spp, 1024 GT points) rendered
with a shared first frame — the fixed `bench` preset is rendered without one, which curation
cannot use — from seeds :data:`SEEDS_FROM` upwards (inside the training seed range but far above
what `--preset train` runs use by default; keep training seeds below it). Missing clips are
rendered first (``--render N``: N static + N dynamic). Every clip gives two pairs (cam0 → cam1,
cam0 → cam2), curated with ``t2v curate --synth-root`` semantics (resumable: finished samples are
reused) and scored with :mod:`track2view.engine.curation.score` (definitions there; depth<=10% is the
share of target pairs whose depth is within 10 % of the truth after one scale per pair). Goal: ≥ 90 % of curated pairs
within 4 px at ≥ 30 % recall.

Run: ``.venv/bin/python -m bench.bench_curation [--clips data/curation/bench] [--render 2]
[--out data/curation/bench_curated] [--max-points 40000]``; results also go to OUT/bench_results.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from track2view.engine.curation.pair import DEFAULT_MAX_POINTS, CurateOptions
from track2view.engine.curation.run import curate_jobs, synth_jobs
from track2view.engine.curation.samples import load_sample, sample_folders
from track2view.engine.curation.score import add_counts, rates, score_pair
from track2view.engine.synth import load_clip

SEEDS_FROM = 990_000
BENCH_CLIP = dict(cameras=3, frames=25, size=(256, 256), samples=16, points=1024, shared_first_frame=True)


def render_missing(root: Path, per_kind: int) -> None:
    from track2view.engine.synth.generate import generate_clip
    from track2view.engine.synth.presets import SynthSpec

    for seed in range(SEEDS_FROM, SEEDS_FROM + per_kind):
        for kind in ("static", "dynamic"):
            folder = root / f"{kind}_{seed}"
            if not folder.exists():
                start = time.perf_counter()
                generate_clip(SynthSpec(seed=seed, kind=kind, **BENCH_CLIP), folder)
                print(f"rendered {folder} in {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=Path("data/curation/bench"))
    parser.add_argument("--out", type=Path, default=Path("data/curation/bench_curated"))
    parser.add_argument("--render", type=int, default=0, help="render clips of this many seeds per kind if missing")
    parser.add_argument("--max-points", type=int, default=DEFAULT_MAX_POINTS)
    args = parser.parse_args()
    if args.render:
        render_missing(args.clips, args.render)

    jobs, unshared = synth_jobs(args.clips)
    for clip in unshared:
        print(f"skipping {clip}: no shared first frame")
    start = time.perf_counter()
    summary = curate_jobs(jobs, args.out, CurateOptions(max_points=args.max_points))
    for job_id in summary.written + summary.skipped + list(summary.empty):
        print(f"{job_id}: {'written' if job_id in summary.written else 'skipped' if job_id in summary.skipped else 'empty'}")
    curate_s = time.perf_counter() - start

    groups: dict[str, dict[str, int]] = {}
    per_sample = {}
    clips = {}
    load_s = []
    for folder in sample_folders(args.out):
        t0 = time.perf_counter()
        sample = load_sample(folder)
        load_s.append(time.perf_counter() - t0)
        target = Path(sample.meta["target"])
        clip_dir = target.parent
        if clip_dir not in clips:
            clips[clip_dir] = load_clip(clip_dir)
        clip = clips[clip_dir]
        counts = score_pair(sample.tracks, clip, int(target.name.removeprefix("cam")))
        per_sample[folder.name] = {"kind": clip.kind, "counts": sample.meta["counts"], "score": counts,
                                   "tracker_s": sum(sample.meta["tracker"].get("timings_s", {}).values())}
        for label, c in counts.items():
            for group in ("all", clip.kind, f"{clip.kind} clips, {label} points"):
                groups[group] = add_counts(groups.get(group, {}), c)

    print(f"\n{len(per_sample)} pairs from {len(clips)} clips ({len(summary.written)} curated now in {curate_s:.0f} s, "
          f"{len(summary.skipped)} reused, {len(summary.empty)} empty); sample load "
          f"{1000 * sum(load_s) / max(1, len(load_s)):.0f} ms each")
    header = (f"{'group':32s} {'pairs':>8s} {'<=2px':>7s} {'<=4px':>7s} {'src<=4px':>9s} {'GT pts':>7s} "
              f"{'recall':>7s} {'unmatched':>9s} {'depth<=10%':>10s}")
    print(header)
    results = {}
    for group in ["all", "static", "dynamic"] + sorted(g for g in groups if "points" in g):
        if group not in groups or not groups[group]["pairs"] and not groups[group]["gt_points"]:
            continue
        c, r = groups[group], rates(groups[group])
        results[group] = {"counts": c, "rates": r}
        print(f"{group:32s} {c['pairs']:8d} {r['precision_2px']:7.1%} {r['precision_4px']:7.1%} "
              f"{r['source_precision_4px']:9.1%} {c['gt_points']:7d} {r['recall']:7.1%} {r['unmatched']:9.1%} "
              f"{r['depth_within10']:10.1%}")
    ok = results.get("all", {}).get("rates", {})
    goal = ok.get("precision_4px", 0) >= 0.9 and ok.get("recall", 0) >= 0.3
    print(f"goal (>= 90% within 4 px at >= 30% recall): {'met' if goal else 'NOT met'}")
    (args.out / "bench_results.json").write_text(json.dumps(
        {"groups": results, "samples": per_sample, "max_points": args.max_points}, indent=1, default=float))


if __name__ == "__main__":
    main()
