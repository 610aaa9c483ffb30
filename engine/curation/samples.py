"""Training samples on disk: writer (atomic, resumable), index, and the bpy-free loader the trainer uses.

Dataset folder (``t2v curate --out DIR``)::

    DIR/index.json              {"format": 1, "samples": [{"id", "frames", "size", "pairs", "source",
                                 "target"}, ...]} — rebuilt from the sample folders after every run
    DIR/<sample_id>/            one source → target view pair; exists only once complete
      frames.npz                "source" and "target": (T, H, W, 3) uint8 RGB, stored uncompressed:
                                rendered frames barely compress (8.0 vs 9.8 MB at 2x25x256x256)
                                and load ~8x faster without zlib or image decoding
      tracks.npz                paired tracks (:mod:`..io.tracks`), N kept points: xyz (T, N, 3), K,
                                w2c of the source view; uv/vis/conf source view; uv_tgt/vis_tgt target
                                view; depth_src/depth_tgt camera-space z; rgb; dynamic; size; fps
      CAM_target.json           target camera (T frames, :func:`..geometry.camera.save_camera_json`),
                                same world as xyz/w2c (the tracker's estimate)
      CAM_source_input.json     the views' own camera files as given (their world and units), only
      CAM_target_input.json     when the view had one (e.g. synthetic clips)
      meta.json                 format, id, source/target inputs, frames T, size [W, H], fps, counts
                                (tracked / dropped per reason / kept), thresholds, tracker report

Coordinates: pixels with (0, 0) the centre of the top-left pixel; OpenCV camera axes; world units
are the tracker's (see :mod:`.pair`). A sample's id is ``<source name>__<target name>``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..geometry.camera import CameraTrack, load_camera_json, save_camera_json
from ..io.atomic import atomic_dir, atomic_file
from ..io.tracks import Tracks, load_tracks, save_tracks
from .appearance import MIN_STEP_NCC
from .filters import THRESHOLDS
from .pair import CuratedPair

SAMPLE_FORMAT = 1
INDEX_FILE = "index.json"
FRAMES_FILE = "frames.npz"
TRACKS_FILE = "tracks.npz"
TARGET_CAMERA_FILE = "CAM_target.json"
INPUT_CAMERA_FILES = ("CAM_source_input.json", "CAM_target_input.json")
META_FILE = "meta.json"


@dataclasses.dataclass
class Sample:
    """One training pair: ``source``/``target`` frames (T, H, W, 3) uint8 RGB, paired ``tracks``
    (T frames, N points), ``target_camera`` (T frames), ``meta`` (meta.json), ``path`` its folder;
    ``input_cameras`` the (source, target) camera files given with the views, each None if absent."""

    source: np.ndarray
    target: np.ndarray
    tracks: Tracks
    target_camera: CameraTrack
    meta: dict
    path: Path
    input_cameras: tuple[CameraTrack | None, CameraTrack | None] = (None, None)


def sample_id(source_name: str, target_name: str) -> str:
    """Folder name of a pair: ``<source>__<target>``, characters outside [A-Za-z0-9._-] replaced by '_'."""
    def clean(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", text)

    return f"{clean(source_name)}__{clean(target_name)}"


def is_complete(folder: str | os.PathLike) -> bool:
    """True if ``folder`` is a finished sample (folders appear whole, so meta.json means complete)."""
    return (Path(folder) / META_FILE).is_file()


def write_sample(pair: CuratedPair, folder: str | os.PathLike) -> Path:
    """Write ``pair`` as a sample folder atomically (an existing folder is replaced); returns it.

    Raises :class:`UserError` for an empty pair: an empty sample is never written.
    """
    folder = Path(folder)
    if pair.counts["kept"] == 0:
        raise UserError(f"{folder.name}: no reliable correspondences ({_dropped(pair.counts)}); nothing written")
    meta = {
        "format": SAMPLE_FORMAT, "id": folder.name,
        "source": str(pair.source.path), "target": str(pair.target.path),
        "frames": pair.tracks.num_frames, "size": list(pair.tracks.size), "fps": pair.tracks.fps,
        "counts": pair.counts, "thresholds": THRESHOLDS | {"MIN_STEP_NCC": MIN_STEP_NCC},
        "tracker": pair.report,
    }
    with atomic_dir(folder) as tmp:
        np.savez(tmp / FRAMES_FILE, source=pair.source.frames, target=pair.target.frames)
        save_tracks(pair.tracks, tmp / TRACKS_FILE)
        save_camera_json(pair.target_camera, tmp / TARGET_CAMERA_FILE)
        for view, name in zip((pair.source, pair.target), INPUT_CAMERA_FILES, strict=True):
            if view.camera is not None:
                save_camera_json(view.camera, tmp / name)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1))
    return folder


def _dropped(counts: dict[str, int]) -> str:
    parts = [f"{k} {v}" for k, v in counts.items() if k not in ("tracked", "kept") and v]
    return f"{counts['tracked']} tracked, dropped: " + (", ".join(parts) or "none")


def load_sample(folder: str | os.PathLike) -> Sample:
    """Read one sample folder; raise :class:`UserError` naming it if incomplete or of another format."""
    folder = Path(folder)
    if not is_complete(folder):
        raise UserError(f"{folder} is not a curated sample (no {META_FILE}); make samples with `t2v curate`")
    meta = json.loads((folder / META_FILE).read_text())
    if meta.get("format") != SAMPLE_FORMAT:
        raise UserError(f"{folder}: sample format {meta.get('format')} is not supported (expected {SAMPLE_FORMAT})")
    with np.load(folder / FRAMES_FILE, allow_pickle=False) as frames:
        source, target = frames["source"], frames["target"]
    inputs = tuple(load_camera_json(folder / n) if (folder / n).is_file() else None for n in INPUT_CAMERA_FILES)
    return Sample(source=source, target=target, tracks=load_tracks(folder / TRACKS_FILE),
                  target_camera=load_camera_json(folder / TARGET_CAMERA_FILE), meta=meta, path=folder,
                  input_cameras=inputs)


def sample_folders(root: str | os.PathLike) -> list[Path]:
    """Complete sample folders under dataset ``root``, sorted by id (partial/hidden folders skipped)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and is_complete(p))


def iter_samples(root: str | os.PathLike) -> Iterator[Sample]:
    """Every complete sample of dataset ``root`` (see the module docstring), in id order."""
    folders = sample_folders(root)
    if not folders:
        raise UserError(f"{root} holds no curated samples; make them with `t2v curate --out {root}`")
    for folder in folders:
        yield load_sample(folder)


def write_index(root: str | os.PathLike) -> Path:
    """Rebuild ``root/index.json`` from the complete sample folders (atomic); returns its path."""
    root = Path(root)
    entries = []
    for folder in sample_folders(root):
        meta = json.loads((folder / META_FILE).read_text())
        entries.append({"id": folder.name, "frames": meta["frames"], "size": meta["size"],
                        "pairs": meta["counts"]["kept"], "source": meta["source"], "target": meta["target"]})
    path = root / INDEX_FILE
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps({"format": SAMPLE_FORMAT, "samples": entries}, indent=1))
    return path
