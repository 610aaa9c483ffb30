"""Which clips and camera pairs an evaluation suite runs (the synthetic ``bench`` clips).

Every case renders one target camera of one clip from its source camera (``cam0``):

- ``full``: all 24 bench clips (12 static, 12 dynamic) × every target camera (cam1, cam2) = 48 cases;
- ``quick``: the first :data:`QUICK_CLIPS_PER_KIND` static and dynamic clips (bench seed order,
  :func:`..synth.presets.bench_specs`: static_1000000, static_1000001, dynamic_1000100,
  dynamic_1000101) × both targets = 8 cases; sized to finish in ≤ 15 min on 2 CPU cores with
  identity, warp and small models. Both targets of fewer clips rather than one target of more:
  rendering a clip (all its cameras) costs far more than evaluating a case, so quick needs only
  4 of the 24 bench clips rendered.

The bench clips are made with ``t2v synth --preset bench --out data/synth`` (held out from training:
their seeds are reserved) and live in ``data/synth/bench/<kind>_<seed>/``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import UserError
from ..synth.presets import PRESETS, bench_specs

SUITES = ("quick", "full")
QUICK_CLIPS_PER_KIND = 2
DEFAULT_DATA = Path("data/synth")
BENCH_COMMAND = "t2v synth --preset bench --out data/synth"


@dataclasses.dataclass(frozen=True)
class EvalCase:
    """One evaluation case: ``clip`` folder, its ``kind`` (static/dynamic), target camera index."""

    clip: Path
    kind: str
    target: int

    @property
    def name(self) -> str:
        return f"{self.clip.name}/cam{self.target}"


def bench_root(data: str | Path) -> Path:
    """The folder holding the bench clips: ``DATA/bench`` if it exists, else ``DATA`` itself."""
    data = Path(data)
    return data / "bench" if (data / "bench").is_dir() else data


def suite_cases(suite: str, data: str | Path = DEFAULT_DATA) -> list[EvalCase]:
    """The cases of ``suite`` in a fixed order (static first); :class:`UserError` if clips are missing."""
    if suite not in SUITES:
        raise UserError(f"--suite must be one of {SUITES}, got {suite!r}")
    specs = bench_specs()
    targets = range(1, PRESETS["bench"].cameras)
    if suite == "quick":
        specs = ([s for s in specs if s.kind == "static"][:QUICK_CLIPS_PER_KIND]
                 + [s for s in specs if s.kind == "dynamic"][:QUICK_CLIPS_PER_KIND])
    root = bench_root(data)
    missing = [s.clip_name for s in specs if not (root / s.clip_name / "meta.json").is_file()]
    if missing:
        raise UserError(f"{root}: {len(missing)} of the {len(specs)} bench clips the {suite!r} suite needs are "
                        f"missing (first: {missing[0]}); render them with `{BENCH_COMMAND}` "
                        "(resumes; minutes per clip on 2 cores), or point --data at the folder holding bench/")
    return [EvalCase(clip=root / s.clip_name, kind=s.kind, target=k) for s in specs for k in targets]
