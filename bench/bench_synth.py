"""Seconds per synthetic clip for each `t2v synth` preset (not a test; prints numbers).

    .venv/bin/python bench/bench_synth.py [--presets tiny,bench,train] [--bench-clips 2]

Renders a few clips per preset into cache/bench_synth/ (git-ignored) and prints, per clip, wall
seconds, CPU seconds of the Blender worker (user + sys, all threads) and the split between
ground-truth tracks and rendering. On a shared machine wall time depends on the load; CPU
seconds / cores is the wall time an idle machine with that many cores would need. The bench
preset total is extrapolated from the clips measured (static and dynamic alternately) to its 24
clips.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from pathlib import Path

from track2view.engine.synth.generate import generate_clip
from track2view.engine.synth.presets import PRESETS, SynthSpec, bench_specs

OUT = Path(__file__).resolve().parents[1] / "cache" / "bench_synth"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _preset_specs(name: str, clips: int) -> list[SynthSpec]:
    if name == "bench":
        specs = bench_specs()
        half = len(specs) // 2
        return [specs[i // 2 + (half if i % 2 else 0)] for i in range(clips)]
    p = PRESETS[name]
    return [SynthSpec(seed=s, kind=("static", "dynamic")[s % 2], cameras=p.cameras, frames=p.frames, size=p.size,
                      samples=p.samples, points=p.points, shared_first_frame=p.shared_first_frame, preset=name)
            for s in range(clips)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="tiny,bench,train")
    parser.add_argument("--bench-clips", type=int, default=2, help="bench clips to measure (extrapolated to 24)")
    parser.add_argument("--clips", type=int, default=1, help="clips to measure for tiny and train")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores={cores} load average={os.getloadavg()[0]:.1f} (other processes share these cores)")
    for name in args.presets.split(","):
        specs = _preset_specs(name, args.bench_clips if name == "bench" else args.clips)
        walls, cpus = [], []
        for spec in specs:
            folder = OUT / name / spec.clip_name
            cpu0, t0 = _children_cpu(), time.perf_counter()
            meta = generate_clip(spec, folder, overwrite=True)
            wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
            walls.append(wall)
            cpus.append(cpu)
            print(f"{name:5s} {spec.clip_name}  {spec.cameras} cams x {spec.frames} frames {spec.size[0]}x{spec.size[1]} "
                  f"{spec.samples} spp: wall {wall:6.1f} s  cpu {cpu:6.1f} s  (tracks {meta['seconds_tracks']:.1f} s, "
                  f"render {meta['seconds_render']:.1f} s wall)  load {os.getloadavg()[0]:.1f}", flush=True)
            shutil.rmtree(folder)
        wall, cpu = sum(walls) / len(walls), sum(cpus) / len(cpus)
        line = f"{name:5s} mean per clip: wall {wall:.1f} s, cpu {cpu:.1f} s (idle {cores} cores ≈ {cpu / cores:.1f} s)"
        if name == "bench":
            n = len(bench_specs())
            line += f"; {n} clips ≈ {n * wall / 60:.1f} min wall as measured, ≈ {n * cpu / cores / 60:.1f} min on idle cores"
        print(line, flush=True)


if __name__ == "__main__":
    main()
