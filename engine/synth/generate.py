"""Make synthetic clips: each clip rendered by Blender in a worker subprocess, its folder renamed into place whole.

The engine never imports bpy: :func:`generate_clip` runs the ``synth-render`` job
(``bridge/synth_render.py``) in a worker of the same interpreter (which must have the ``bpy``
module, ``pip install track2view[blender]``), then finishes the clip with :func:`.clip.finish_clip`.
A clip folder exists only once complete (:func:`..io.atomic.atomic_dir`), which is what makes
``train`` runs resumable. A run killed hard (SIGKILL) may leave hidden ``.<clip>.partial.*``
folders: they never count as clips and can be deleted once no run writes into that folder.
:func:`generate_many` submits one ``synth-clip`` job per clip to a runner: one at a time here, or
many at once on Ray (``t2v synth --ray``).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path

from ..errors import UserError
from ..io.atomic import atomic_dir, check_writable_target
from ..jobs import InProcess, JobRequest, Progress, Runner, job
from ..worker import Subprocess, WorkerError
from .clip import finish_clip
from .presets import SYNTH_VERSION, SynthSpec


def check_blender_available() -> None:
    """Raise :class:`UserError` unless this interpreter can import the ``bpy`` module."""
    if importlib.util.find_spec("bpy") is None:
        raise UserError(f"t2v synth renders with Blender's Python module, which {sys.executable} lacks; "
                        "install it with `pip install bpy==5.0.1` (Python 3.11)")


def generate_clip(spec: SynthSpec, folder: str | Path, *, overwrite: bool = False,
                  progress: Progress | None = None) -> dict:
    """Render ``spec`` into ``folder`` (refused if it exists, unless ``overwrite``); return its meta."""
    progress = Progress.of(progress)
    folder = check_writable_target(folder, overwrite)
    check_blender_available()
    start = time.perf_counter()
    with atomic_dir(folder) as tmp:
        try:
            Subprocess().run(JobRequest("synth-render", {"spec": spec.to_json(), "out": str(tmp)}),
                             progress.span(0, 0.95))
        except WorkerError as exc:
            raise WorkerError(f"Blender failed to render {folder.name} (seed {spec.seed}): {exc}", exc.details) from None
        meta = finish_clip(tmp, spec, time.perf_counter() - start)
    progress(1.0, "finished")
    return meta


@dataclasses.dataclass(frozen=True)
class SynthClipParams:
    """The ``synth-clip`` job: ``spec`` (:meth:`SynthSpec.to_json`) rendered into ``folder``."""

    spec: dict
    folder: str
    overwrite: bool = False


@job("synth-clip", SynthClipParams)
def synth_clip_job(params: SynthClipParams, progress: Progress) -> dict:
    """:func:`generate_clip` of ``params``: the clip's meta."""
    return generate_clip(SynthSpec.from_json(params.spec), params.folder, overwrite=params.overwrite,
                         progress=progress)


def _clip_version(folder: Path) -> int | None:
    try:
        return json.loads((folder / "meta.json").read_text()).get("synth_version")
    except (OSError, ValueError):
        return None


def generate_many(specs: list[SynthSpec], root: str | Path, *, overwrite: bool = False, resume: bool = False,
                  runner: Runner | None = None, progress: Progress | None = None) -> list[Path]:
    """Render ``specs`` into ``root/<clip_name>`` as ``synth-clip`` jobs on ``runner`` (default: one at a
    time, here); returns the clip folders.

    Existing clips are skipped with ``resume`` (refused up front if made by another
    :data:`.presets.SYNTH_VERSION`), replaced with ``overwrite``, and refused otherwise (checked for
    all clips before anything is rendered). ``progress`` hears of the clips skipped, then of the jobs.
    """
    progress = Progress.of(progress)
    root = Path(root)
    folders = [root / spec.clip_name for spec in specs]
    if not resume:
        for folder in folders:
            check_writable_target(folder, overwrite, flag="--overwrite (or use the train preset to resume)")
    elif not overwrite:
        stale = [f for f in folders if f.exists() and _clip_version(f) != SYNTH_VERSION]
        if stale:
            raise UserError(f"{len(stale)} existing clip(s) were made by another version of t2v synth "
                            f"(first: {stale[0]}); pass --overwrite to regenerate them, or use another --out")
    check_blender_available()
    todo = [(spec, folder) for spec, folder in zip(specs, folders, strict=True)
            if overwrite or not resume or not folder.exists()]
    for folder in folders:
        if resume and folder.exists() and not overwrite:
            progress(0.0, f"{folder.name}: skipped (made earlier)")
    requests = [JobRequest("synth-clip", {"spec": spec.to_json(), "folder": str(folder.resolve()), "overwrite": True},
                           folder.name) for spec, folder in todo]
    for _ in (runner or InProcess()).map(requests, progress):
        pass
    return folders
