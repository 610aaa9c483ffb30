"""Render synthetic multi-camera clips with ground-truth 3D tracks (Blender/Cycles on the CPU).

Without --preset, one clip is written into --out itself (refused if it exists, unless
--overwrite). With a preset, clips go to OUT/<preset>/<kind>_<seed>/:

  tiny   64x64, 5 frames, 2 cameras: one clip of --seed (fast; used by the tests)
  bench  the fixed held-out benchmark: 24 clips (12 static, 12 dynamic), 3 cameras, 25 frames, 8 spp,
         256x256, seeds >= 1000000; no per-option overrides; finished clips are kept (resumes)
  train  --count clips with seeds --seed .. --seed+count-1 (--kind mixed: even seeds static, odd
         dynamic), targets share the source's first frame; finished clips are skipped (resumes)

Each clip holds cam<k>/rgb/*.png, cam<k>/depth.npy, cam<k>/CAM.json, cam<k>/tracks.npz,
meta.json and contact_sheet.png (layout: track2view.engine.synth). Needs the bpy module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._progress import progress_bar
from ._runner import add_ray_argument, runner_from

_OVERRIDES = ("cameras", "frames", "size", "samples", "points", "shared_first_frame", "denoise", "seed", "kind",
              "count")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="clip folder, or the root of a preset's clips")
    parser.add_argument("--preset", choices=("tiny", "bench", "train"), help="named set of settings (see above)")
    parser.add_argument("--seed", type=int, help="scene seed (default 0); with train the first seed")
    parser.add_argument("--kind", choices=("static", "dynamic", "mixed"),
                        help="static: only cameras move; dynamic: objects move and deform; "
                             "mixed (default): by seed parity")
    parser.add_argument("--cameras", type=int, help="cameras K, camera 0 is the source (default 3)")
    parser.add_argument("--frames", type=int, help="frames T per camera (default 25)")
    parser.add_argument("--size", help="image size WxH in pixels (default 256x256)")
    parser.add_argument("--samples", type=int, help="Cycles samples per pixel (default 8)")
    parser.add_argument("--points", type=int, help="ground-truth points N (default 1024)")
    parser.add_argument("--count", type=int, help="train: number of clips (default 1)")
    parser.add_argument("--shared-first-frame", action=argparse.BooleanOptionalAction, default=None,
                        help="every target camera starts at the source camera's first pose "
                             "(default: on for train, off otherwise)")
    parser.add_argument("--denoise", action=argparse.BooleanOptionalAction, default=None,
                        help="run Cycles' OpenImageDenoise on every frame: no render grain, which differs between "
                             "cameras (about 40 %% more render time; default off)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing clip folders")
    add_ray_argument(parser, "clips of a preset")


def _specs(args: argparse.Namespace):
    from ..errors import UserError
    from ..synth.presets import PRESETS, SynthSpec, bench_specs, parse_size, resolve_kind

    if args.preset == "bench":
        given = [f"--{name.replace('_', '-')}" for name in _OVERRIDES if getattr(args, name) is not None]
        if given:
            raise UserError(f"the bench preset is fixed; drop {', '.join(given)}")
        return bench_specs()
    preset = PRESETS[args.preset or "train"]
    if args.count is not None and args.preset != "train":
        raise UserError("--count only applies to --preset train")
    count = 1 if args.count is None else args.count
    if count < 1:
        raise UserError(f"--count must be ≥ 1, got {count}")
    seed = 0 if args.seed is None else args.seed
    shared = preset.shared_first_frame if args.preset else False
    common = dict(
        cameras=preset.cameras if args.cameras is None else args.cameras,
        frames=preset.frames if args.frames is None else args.frames,
        size=preset.size if args.size is None else parse_size(args.size),
        samples=preset.samples if args.samples is None else args.samples,
        points=preset.points if args.points is None else args.points,
        shared_first_frame=shared if args.shared_first_frame is None else args.shared_first_frame,
        preset=args.preset or "",
        denoise=bool(args.denoise),
    )
    return [SynthSpec(seed=s, kind=resolve_kind(args.kind or "mixed", s), **common)
            for s in range(seed, seed + count)]


def run(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..synth.generate import generate_clip, generate_many

    specs = _specs(args)
    if args.preset is None:
        if args.ray is not None:
            raise UserError("--ray runs the clips of a --preset at once; one clip has nothing to spread")
        with progress_bar() as progress:
            meta = generate_clip(specs[0], args.out, overwrite=args.overwrite, progress=progress)
        print(f"{args.out}  {meta['seconds']:.1f} s")
        return 0
    root = args.out / args.preset
    with runner_from(args) as runner, progress_bar() as progress:
        generate_many(specs, root, overwrite=args.overwrite, resume=args.preset in ("bench", "train"),
                      runner=runner, progress=progress)
    print(f"{len(specs)} clips in {root}")
    return 0
