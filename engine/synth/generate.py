"""Make synthetic clips: one clip per Blender worker subprocess, each folder renamed into place whole.

The engine never imports bpy: :func:`generate_clip` runs ``python -m <package>.bridge.synth_render``
with the same interpreter (which must have the ``bpy`` module, ``pip install track2view[blender]``),
then finishes the clip with :func:`.clip.finish_clip`. A clip folder exists only once complete
(:func:`..io.atomic.atomic_dir`), which is what makes ``train`` runs resumable. A run killed
hard (SIGKILL, SIGTERM) may leave hidden ``.<clip>.partial.*`` folders: they never count as
clips and can be deleted once no run writes into that folder.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from ..io.atomic import atomic_dir, check_writable_target
from .clip import finish_clip
from .presets import SYNTH_VERSION, SynthSpec

WORKER_MODULE = __package__.rsplit(".engine", 1)[0] + ".bridge.synth_render"
OUTPUT_TAIL_CHARS = 3000  # how much of a failed worker's output to show


def check_blender_available() -> None:
    """Raise :class:`UserError` unless this interpreter can import the ``bpy`` module."""
    if importlib.util.find_spec("bpy") is None:
        raise UserError(f"t2v synth renders with Blender's Python module, which {sys.executable} lacks; "
                        "install it with `pip install bpy==5.0.1` (Python 3.11)")


def _run_worker(spec: SynthSpec, folder: Path) -> None:
    spec_path = folder / "raw" / "spec.json"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec.to_json()))
    result = subprocess.run([sys.executable, "-m", WORKER_MODULE, str(spec_path), str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]
        raise RuntimeError(f"Blender worker failed for seed {spec.seed} (exit {result.returncode}):\n{output}")


def generate_clip(spec: SynthSpec, folder: str | Path, *, overwrite: bool = False) -> dict:
    """Render ``spec`` into ``folder`` (refused if it exists, unless ``overwrite``); return its meta."""
    folder = check_writable_target(folder, overwrite)
    check_blender_available()
    start = time.perf_counter()
    with atomic_dir(folder) as tmp:
        _run_worker(spec, tmp)
        meta = finish_clip(tmp, spec, time.perf_counter() - start)
    return meta


def _clip_version(folder: Path) -> int | None:
    try:
        return json.loads((folder / "meta.json").read_text()).get("synth_version")
    except (OSError, ValueError):
        return None


def generate_many(specs: list[SynthSpec], root: str | Path, *, overwrite: bool = False, resume: bool = False,
                  progress: Callable[[int, int, SynthSpec, str], None] | None = None) -> list[Path]:
    """Render ``specs`` into ``root/<clip_name>``; returns the clip folders.

    Existing clips are skipped with ``resume`` (refused up front if made by another
    :data:`.presets.SYNTH_VERSION`), replaced with ``overwrite``, and refused otherwise (checked for
    all clips before anything is rendered). ``progress(i, n, spec, status)`` is called
    after each clip with status 'done' or 'skipped'.
    """
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
    for i, (spec, folder) in enumerate(zip(specs, folders, strict=True)):
        if resume and folder.exists() and not overwrite:
            status = "skipped"
        else:
            generate_clip(spec, folder, overwrite=True)
            status = "done"
        if progress is not None:
            progress(i, len(specs), spec, status)
    return folders
