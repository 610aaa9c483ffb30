"""The demo: a synthetic shot re-rendered from a new camera, straight into Blender's sequencer.

Steps: render a synthetic shot with Blender/Cycles (`t2v synth`); in Blender, as an artist would,
import it as footage, reconstruct its tracks and camera from the frames alone (given the lens),
add a target camera that orbits the shot by --orbit degrees while dollying in, render its view
into the sequencer with the built-in default model (--model DIR: another model folder; --preview:
the geometric-warp preview only, seconds), save OUT/demo.blend, and write OUT/demo_side_by_side.png (last
frame: source | new view | holes).
The synthetic shot is kept in OUT/demo_shot/ and the tracks in OUT/track2view/; later runs reuse them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._progress import progress_bar

DEMO_SEED = 7
SENSOR_MM = 36.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default ./out)")
    parser.add_argument("--size", default="384x216", help="shot size WxH (default 384x216)")
    parser.add_argument("--frames", type=int, default=24, help="shot length in frames (default 24)")
    parser.add_argument("--samples", type=int, default=8, help="Cycles samples per pixel (default 8)")
    parser.add_argument("--orbit", type=float, default=20.0, help="orbit of the new camera, degrees (default 20)")
    parser.add_argument("--dolly", type=float, default=0.15,
                        help="dolly in, fraction of the distance to the subject (default 0.15)")
    parser.add_argument("--model", type=Path,
                        help="Track2View model folder (default: the built-in default model)")
    parser.add_argument("--preview", action="store_true",
                        help="render the geometric-warp preview only (no model; seconds)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT/demo.blend")


def _side_by_side(source_dir: Path, render: Path, out: Path) -> Path:
    """Last frame (the whole move): source | new view | hole mask, labelled, as one PNG (atomic)."""
    import cv2
    import numpy as np

    from ..io.atomic import atomic_file
    from ..io.video import read_frames

    source = read_frames(source_dir).frames
    new = read_frames(render / "frames").frames
    holes = read_frames(render / "holes").frames
    i = len(new) - 1
    h = new.shape[1]
    panels = [cv2.resize(source[i], (round(source.shape[2] * h / source.shape[1]), h)), new[i], holes[i]]
    for panel, label in zip(panels, ("source", "new view", "holes"), strict=True):
        cv2.putText(panel, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    with atomic_file(out) as tmp:
        cv2.imwrite(str(tmp), cv2.cvtColor(np.concatenate(panels, 1), cv2.COLOR_RGB2BGR))
    return out


def _blender_part(params: dict) -> dict:
    """The Blender half (``bridge/demo_scene.py``), as the ``demo-scene`` job in a worker with bpy."""
    from ..jobs import JobRequest
    from ..worker import Subprocess

    with progress_bar() as progress:
        return Subprocess().run(JobRequest("demo-scene", params), progress)


def run(args: argparse.Namespace) -> int:
    from ..geometry.camera import load_camera_json
    from ..io.atomic import check_writable_target
    from ..model.model_folder import default_model_folder
    from ..synth.generate import generate_clip
    from ..synth.presets import SynthSpec, parse_size

    model = None if args.preview else (args.model or default_model_folder())
    out = args.out.resolve()
    size = parse_size(args.size)
    blend = check_writable_target(out / "demo.blend", args.overwrite)
    shot = out / "demo_shot" / f"static_{size[0]}x{size[1]}_{args.frames}f_{args.samples}spp_seed{DEMO_SEED}"
    if not (shot / "meta.json").is_file():
        print(f"[1/3] rendering a synthetic shot with Cycles into {shot} ...", flush=True)
        generate_clip(SynthSpec(seed=DEMO_SEED, kind="static", cameras=2, frames=args.frames, size=size,
                                samples=args.samples, points=256), shot, overwrite=True)
    else:
        print(f"[1/3] reusing the synthetic shot {shot}", flush=True)
    footage = shot / "cam0" / "rgb"
    camera = load_camera_json(shot / "cam0" / "CAM.json")
    print("[2/3] Blender: import the footage, reconstruct tracks and camera, add a target camera "
          f"(orbit {args.orbit:g} deg + dolly in), render its view ...", flush=True)
    result = _blender_part({"footage": str(footage), "blend": str(blend),
                            "lens_mm": float(camera.K[0, 0, 0]) / max(camera.size) * SENSOR_MM,
                            "sensor_mm": SENSOR_MM, "orbit_deg": args.orbit, "dolly_fraction": args.dolly,
                            "preview": model is None,
                            "model": str(model.resolve()) if model else None})
    render = Path(result["render"])
    print("[3/3] side-by-side image ...", flush=True)
    side = _side_by_side(footage, render, out / "demo_side_by_side.png")
    if model is None:
        print("\nThe new view is the geometric-warp preview (holes where the footage has nothing to show)"
              + ("." if args.preview else "; no model folder was found, pass --model DIR to render with one."))
    else:
        print(f"\nThe new view was generated by the model in {model}.")
    print(f"  Blender file:   {blend}  (sequencer: footage on channel 1, the new view above it)")
    print(f"  tracks:         {result['tracks']}")
    print(f"  target camera:  {result['camera']}")
    print(f"  frames:         {render / 'frames'}")
    print(f"  hole masks:     {render / 'holes'}")
    print(f"  video:          {render / 'render.mp4'}")
    print(f"  side by side:   {side}")
    return 0
