"""The tracks cache of a shot: where the tracker's result for a footage is kept, and whether it can be reused.

``<cache_dir>/<footage name>-<path hash>.tracks.npz`` (with the tracker's ``.report.json`` and
``.depth.npz`` beside it) plus ``.settings.json``: the settings it was made with — the footage path,
the frame range, the most points, the focal length given, and the footage's size and newest
modification time, so an edited or replaced footage is tracked again. The add-on keeps the cache in
``//track2view`` beside the .blend (``operators/reconstruct_tracks.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ..io.atomic import atomic_file

PATH_HASH_CHARS = 8
"""Hex digits of the footage path's SHA-1 in the cache name (shots with equally named folders differ)."""

_UNSAFE = re.compile("[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\xff]")
"""Characters a cache name replaces by "_" (what Blender's ``bpy.path.clean_name`` replaces)."""


def cache_path(footage: Path, cache_dir: Path) -> Path:
    """``cache_dir/<name>-<hash>.tracks.npz`` for ``footage`` (a movie file or an image-sequence folder)."""
    name = _UNSAFE.sub("_", footage.stem if footage.is_file() else footage.name)
    digest = hashlib.sha1(str(footage.resolve()).encode("utf-8")).hexdigest()[:PATH_HASH_CHARS]
    return cache_dir / f"{name}-{digest}.tracks.npz"


def settings_path(cache: Path) -> Path:
    """The sidecar recording the settings the tracks in ``cache`` were made with."""
    return cache.with_name(cache.name + ".settings.json")


def footage_stamp(footage: Path) -> list[int]:
    """[total bytes, newest mtime in ns] of a movie file or of the files of an image-sequence folder."""
    stats = [footage.stat()] if footage.is_file() else [p.stat() for p in footage.iterdir() if p.is_file()]
    return [sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)]


def tracking_settings(footage: Path, frames: list[int], max_points: int, focal_px: float | None) -> dict:
    """The settings a cache is made with and checked against (see the module docstring)."""
    return {"input": str(footage), "frames": list(frames), "max_points": int(max_points), "focal_px": focal_px,
            "footage_stamp": footage_stamp(footage)}


def cache_differences(cache: Path, settings: dict) -> list[str]:
    """Names of the settings that differ from the ones ``cache`` was made with ([] = reusable).

    A missing cache or sidecar gives ``["no cache"]``.
    """
    sidecar = settings_path(cache)
    if not (cache.is_file() and sidecar.is_file()):
        return ["no cache"]
    try:
        old = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return ["no cache"]
    return [key for key, value in settings.items() if old.get(key) != value]


def write_settings(cache: Path, settings: dict) -> None:
    """Record ``settings`` beside ``cache`` (atomically)."""
    with atomic_file(settings_path(cache)) as tmp:
        tmp.write_text(json.dumps(settings, indent=1))
