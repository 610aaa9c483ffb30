"""What one synthetic clip is made of (:class:`SynthSpec`), the presets, and the seed ranges.

Seeds are split so the benchmark never overlaps training data:

- training clips use seeds in ``[TRAIN_SEED_MIN, TRAIN_SEED_MAX]``;
- the ``bench`` preset uses ``BENCH_STATIC_SEEDS`` (static scenes) and ``BENCH_DYNAMIC_SEEDS``
  (dynamic scenes), all ≥ :data:`BENCH_SEED_MIN`; ``t2v synth`` refuses those seeds elsewhere.

Kinds: ``static`` (nothing in the world moves; only cameras do), ``dynamic`` (objects follow
keyframed paths and rotations, at least one deforms non-rigidly) and ``mixed`` (by seed parity:
even → static, odd → dynamic).
"""

from __future__ import annotations

import dataclasses

from ..errors import UserError

# Bump whenever scene, render or ground-truth code changes what a spec produces; clips record it in
# meta.json and resumed runs refuse to mix versions.
SYNTH_VERSION = 3

TRAIN_SEED_MIN = 0
TRAIN_SEED_MAX = 999_999
BENCH_SEED_MIN = 1_000_000
BENCH_STATIC_SEEDS = tuple(range(BENCH_SEED_MIN, BENCH_SEED_MIN + 12))
BENCH_DYNAMIC_SEEDS = tuple(range(BENCH_SEED_MIN + 100, BENCH_SEED_MIN + 112))

KINDS = ("static", "dynamic")
MIN_SIDE, MAX_SIDE = 16, 4096        # image width/height limits, pixels
MIN_FRAMES, MAX_FRAMES = 2, 1000
MIN_CAMERAS, MAX_CAMERAS = 2, 8      # camera 0 is the source; at least one target
MIN_SAMPLES, MAX_SAMPLES = 1, 4096   # Cycles samples per pixel
MIN_POINTS, MAX_POINTS = 1, 200_000
FPS = 24.0


@dataclasses.dataclass(frozen=True)
class SynthSpec:
    """One clip: scene seed and kind, K cameras × T frames at ``size`` (W, H) pixels.

    ``samples`` are Cycles samples per pixel, ``points`` the number N of ground-truth tracks,
    ``shared_first_frame`` makes every target camera start at the source camera's first pose.
    ``preset`` names the preset the clip belongs to ('' for a one-off clip). ``denoise`` runs Cycles'
    OpenImageDenoise on every frame: without it the frames carry the samples' grain, which differs
    between cameras, so it caps how well one view can match another (bench clip static_1000002:
    the grain is 73 % of the frames' Laplacian energy; a bench-sized clip renders in about 2 min instead of 1.5).
    """

    seed: int
    kind: str
    cameras: int
    frames: int
    size: tuple[int, int]
    samples: int
    points: int
    shared_first_frame: bool = False
    preset: str = ""
    fps: float = FPS
    denoise: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"--kind must be one of {KINDS}, got {self.kind!r}")
        w, h = self.size
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise UserError(f"--size {w}x{h} is out of range: width and height must be {MIN_SIDE}..{MAX_SIDE} pixels")
        _check_range("--frames", self.frames, MIN_FRAMES, MAX_FRAMES)
        _check_range("--cameras", self.cameras, MIN_CAMERAS, MAX_CAMERAS)
        _check_range("--samples", self.samples, MIN_SAMPLES, MAX_SAMPLES)
        _check_range("--points", self.points, MIN_POINTS, MAX_POINTS)
        if self.seed < TRAIN_SEED_MIN:
            raise UserError(f"--seed must be ≥ {TRAIN_SEED_MIN}, got {self.seed}")
        if self.preset != "bench" and self.seed >= BENCH_SEED_MIN:
            raise UserError(f"--seed {self.seed} is reserved for the benchmark (seeds ≥ {BENCH_SEED_MIN}); "
                            f"use a seed in {TRAIN_SEED_MIN}..{TRAIN_SEED_MAX}")

    @property
    def clip_name(self) -> str:
        """Folder name of the clip inside a preset folder: ``<kind>_<seed>``."""
        return f"{self.kind}_{self.seed:07d}"

    def to_json(self) -> dict:
        return dataclasses.asdict(self) | {"size": list(self.size)}

    @classmethod
    def from_json(cls, doc: dict) -> SynthSpec:
        return cls(**(doc | {"size": tuple(doc["size"])}))


@dataclasses.dataclass(frozen=True)
class Preset:
    """Default clip settings of a preset; ``fixed`` presets refuse per-option overrides."""

    size: tuple[int, int]
    frames: int
    cameras: int
    samples: int
    points: int
    shared_first_frame: bool
    fixed: bool = False


PRESETS = {
    # Fast enough for tests: a few seconds per clip.
    "tiny": Preset(size=(64, 64), frames=5, cameras=2, samples=8, points=256, shared_first_frame=False),
    # Deterministic held-out benchmark: 24 clips, see BENCH_*_SEEDS.
    # 8 spp without denoiser: ~1.3 CPU-s per 256² frame (16 spp doubles it); grain looks like footage.
    "bench": Preset(size=(256, 256), frames=25, cameras=3, samples=8, points=1024,
                    shared_first_frame=False, fixed=True),
    # Training clips: targets share the source's first frame, as curation needs.
    "train": Preset(size=(256, 256), frames=25, cameras=3, samples=8, points=1024, shared_first_frame=True),
}


def _check_range(flag: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise UserError(f"{flag} must be {lo}..{hi}, got {value}")


def parse_size(text: str) -> tuple[int, int]:
    """``'WxH'`` → (W, H); raise :class:`UserError` naming ``--size`` otherwise."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise UserError(f"--size must look like 256x256 (width x height in pixels), got {text!r}")
    return int(parts[0]), int(parts[1])


def resolve_kind(kind: str, seed: int) -> str:
    """``static``/``dynamic`` as given; ``mixed`` → static for even seeds, dynamic for odd ones."""
    if kind == "mixed":
        return KINDS[seed % 2]
    return kind


def bench_specs() -> list[SynthSpec]:
    """The 24 clips of the benchmark, static first, in a fixed order."""
    p = PRESETS["bench"]
    common = dict(cameras=p.cameras, frames=p.frames, size=p.size, samples=p.samples, points=p.points,
                  shared_first_frame=p.shared_first_frame, preset="bench")
    return ([SynthSpec(seed=s, kind="static", **common) for s in BENCH_STATIC_SEEDS]
            + [SynthSpec(seed=s, kind="dynamic", **common) for s in BENCH_DYNAMIC_SEEDS])
