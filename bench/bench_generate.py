"""Tiny-model generation speed: seconds per generated frame and peak RSS (goal: ≤ 60 s for the clip).

The tiny default configuration (``engine/model/configs.py`` TINY) with RANDOM weights (speed does
not depend on the weights), saved to a temporary model folder and loaded the way ``t2v generate``
does (ONNX Runtime conditioner, exported on save), on the analytic two-plane shot of the tests:
256×256, 25 frames, 20 000 tracks, a 15° orbit as the target camera, 20 steps, 2 torch threads.
Prints wall and CPU time (and the machine's load average) of the pipeline call split into denoising and the rest (encode, conditioner, decode).
Run: ``.venv/bin/python -m bench.bench_generate [--frames 25] [--size 256] [--steps 20] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import torch

from tests.tiny_shot import make_tracks, orbit_camera, render, source_camera
from track2view.engine.model.build import build_pipeline
from track2view.engine.model.pipeline import Track2ViewPipeline
from track2view.engine.pairing import pair_tracks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=25)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tracks", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = (args.size, args.size)
    cam = source_camera(size, args.frames)
    frames, _ = render(cam)
    target = orbit_camera(cam, 15.0)
    paired = pair_tracks(make_tracks(cam, args.tracks), target)

    with tempfile.TemporaryDirectory() as tmp:
        build_pipeline("tiny", seed=0).save_pretrained(Path(tmp) / "tiny")
        pipe = Track2ViewPipeline.from_pretrained(Path(tmp) / "tiny", cache_dir=tmp, device="cpu")
        pipe.set_progress_bar_config(disable=True)
        marks: list[float] = []

        def on_step(p, step, timestep, tensors):
            marks.append(time.perf_counter())
            return {}

        wall, cpu = time.perf_counter(), time.process_time()
        out = pipe(frames, paired, target, num_inference_steps=args.steps, max_side=args.size,
                   callback_on_step_end=on_step)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_step = (marks[-1] - marks[0]) / max(len(marks) - 1, 1)
    n = len(out.frames)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tiny model (random weights), {size[0]}x{size[1]}, {n} frames, {args.steps} steps, "
          f"{args.threads} threads, windows {out.plan.starts}")
    print(f"  total {wall:.1f} s wall ({cpu:.1f} s CPU) = {wall / n:.2f} s per generated frame "
          f"(goal: ≤ 60 s for the clip: {'met' if wall <= 60 else 'NOT met'})")
    print(f"  denoising ≈ {per_step:.2f} s/step × {args.steps} = {per_step * args.steps:.1f} s; "
          f"encode + conditioner + decode ≈ {wall - per_step * args.steps:.1f} s")
    print(f"  peak RSS {rss:.0f} MB")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: on a busy machine wall time is "
          f"inflated; CPU time / threads = {cpu / args.threads:.1f} s ≈ the wall time with the cores to itself "
          f"(if both threads stay busy)")


if __name__ == "__main__":
    main()
