"""The refiner on held-out examples, against what it replaces: PSNR over the frame, the warp's covered pixels
and its holes (squared errors pooled over the examples).

Examples come from ``t2v train --stage refiner`` (cached in ``--cache``; the held-out clips are the last
``--held-out`` of ``--data``, as in training). Rows: the warp alone (holes black), the warp with its holes
inpainted by OpenCV (Telea, the classical baseline), the transformer's coarse view alone, an untrained
refiner (the warp where it has content, an even blend of coarse view and pull-push fill in the holes) and
the model's trained refiner. Per target kind too: ``source`` (the source camera), ``cam`` (another camera),
``shift`` (the source camera 8 frames later).
Run: ``.venv/bin/python -m bench.bench_refiner --data data/synth/train --model models/default``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from track2view.engine.eval.fidelity import psnr
from track2view.engine.model.configs import TINY
from track2view.engine.model.pipeline import Track2ViewPipeline
from track2view.engine.model.refiner import Track2ViewRefiner, refiner_inputs
from track2view.engine.train.refiner_data import refiner_examples, split_clips, synth_clips


@torch.no_grad()
def refined(refiner: Track2ViewRefiner, example) -> np.ndarray:
    out = [refiner(*refiner_inputs(example.warp[t], example.hole[t], example.coarse[t]))[0] for t in
           range(example.num_frames)]
    return np.round(torch.stack(out).permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)


def pooled_psnr(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """PSNR over all pixels of (output, truth, hole) rows pooled (an exact example does not make it infinite)."""
    if not rows:
        return float("nan")
    return psnr(np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/synth/train"))
    parser.add_argument("--model", type=Path, default=Path("models/default"))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--held-out", type=int, default=2)
    args = parser.parse_args()
    pipe = Track2ViewPipeline.from_pretrained(args.model, conditioner="torch")
    pipe.set_progress_bar_config(disable=True)
    _, held = split_clips(synth_clips(args.data), args.held_out)
    examples = refiner_examples(pipe, held, args.cache or args.data / ".refiner_examples")
    torch.manual_seed(0)
    untrained = Track2ViewRefiner(**TINY.refiner).eval()
    methods = {
        "warp (holes black)": lambda e: e.warp,
        "warp + OpenCV inpaint": lambda e: np.stack([cv2.inpaint(w, h.astype(np.uint8), 3, cv2.INPAINT_TELEA)
                                                      for w, h in zip(e.warp, e.hole, strict=True)]),
        "coarse view alone": lambda e: np.stack([cv2.resize(c, w.shape[1::-1], interpolation=cv2.INTER_CUBIC)
                                                 for c, w in zip(e.coarse, e.warp, strict=True)]),
        "untrained refiner": lambda e: refined(untrained, e),
        "trained refiner": lambda e: refined(pipe.refiner, e),
    }
    kinds = ("source", "cam", "shift")
    print(f"{len(examples)} held-out examples from {', '.join(c.name for c in held)}; "
          f"holes {np.mean([e.hole.mean() for e in examples]):.1%} of the pixels")
    print(f"{'method':24s} {'PSNR':>6s} {'covered':>7s} {'holes':>6s} | " + " ".join(f"{k:>7s}" for k in kinds))
    for name, method in methods.items():
        rows = {k: [] for k in kinds}
        for e in examples:
            out = method(e)
            kind = next(k for k in kinds if e.name.split("-")[1].startswith(k))
            rows[kind].append((out.reshape(-1, 3), e.truth.reshape(-1, 3), e.hole.reshape(-1)))
        every = [r for kind_rows in rows.values() for r in kind_rows]
        out, truth, hole = (np.concatenate(parts) for parts in zip(*every, strict=True))
        by_kind = [pooled_psnr(kind_rows) for kind_rows in rows.values()]
        print(f"{name:24s} {psnr(out, truth):6.2f} {psnr(out, truth, ~hole):7.2f} {psnr(out, truth, hole):6.2f} | "
              + " ".join(f"{v:7.2f}" for v in by_kind), flush=True)


if __name__ == "__main__":
    main()
