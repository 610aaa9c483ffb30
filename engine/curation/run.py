"""Curate many view pairs into one dataset folder, resumably.

A :class:`PairJob` names one source → target pair (paths + optional camera files + sample id).
:func:`explicit_jobs` makes them from ``--source``/``--target`` arguments, :func:`synth_jobs` from
every ``t2v synth`` clip under a root (camera 0 → each other camera). :func:`curate_jobs` runs
them: finished samples are skipped (unless ``overwrite``), each new sample folder appears whole,
pairs with no reliable correspondence are reported and written nowhere, and ``index.json`` is
rebuilt at the end (never an index of an empty dataset).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from ..jobs import Progress
from .pair import CurateOptions, curate_pair
from .samples import is_complete, sample_folders, sample_id, write_index, write_sample
from .views import load_view, view_name

SYNTH_META = "meta.json"


@dataclasses.dataclass
class PairJob:
    """One pair to curate into ``<out>/<id>``; cameras None → looked up beside the views."""

    id: str
    source: Path
    target: Path
    source_camera: Path | None = None
    target_camera: Path | None = None


@dataclasses.dataclass
class RunSummary:
    """Sample ids ``written`` and ``skipped`` (already complete), ``empty`` {id: why}, ``counts``
    {id: kept/dropped counts} of the written ones, ``index`` the index file (not written while the
    dataset holds no sample)."""

    written: list[str]
    skipped: list[str]
    empty: dict[str, str]
    counts: dict[str, dict[str, int]]
    index: Path


def explicit_jobs(source: str | os.PathLike, targets: list[str | os.PathLike],
                  source_camera: str | os.PathLike | None = None,
                  target_cameras: list[str | os.PathLike] | None = None) -> list[PairJob]:
    """One job per target; ``target_cameras`` is empty or one per target (same order)."""
    if not targets:
        raise UserError("give at least one --target view")
    target_cameras = list(target_cameras or [])
    if target_cameras and len(target_cameras) != len(targets):
        raise UserError(f"--target-camera given {len(target_cameras)} times for {len(targets)} --target views; "
                        "give one per target, in the same order, or none")
    source = Path(source)
    jobs = []
    for i, target in enumerate(map(Path, targets)):
        jobs.append(PairJob(id=sample_id(view_name(source), view_name(target)), source=source, target=target,
                            source_camera=None if source_camera is None else Path(source_camera),
                            target_camera=Path(target_cameras[i]) if target_cameras else None))
    ids = [j.id for j in jobs]
    if len(set(ids)) != len(ids):
        raise UserError(f"two --target views have the same name ({ids}); rename one")
    return jobs


def synth_clip_folders(root: str | os.PathLike) -> list[Path]:
    """Synthetic clip folders (holding meta.json and cam0/) at ``root`` or up to two levels below, sorted."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"--synth-root {root} is not a folder")
    found = [root] if (root / SYNTH_META).is_file() and (root / "cam0").is_dir() else []
    for pattern in ("*/" + SYNTH_META, "*/*/" + SYNTH_META):
        found += [p.parent for p in root.glob(pattern) if (p.parent / "cam0").is_dir()]
    return sorted({p for p in found if not any(part.startswith(".") for part in p.relative_to(root).parts)})


def synth_jobs(root: str | os.PathLike) -> tuple[list[PairJob], list[Path]]:
    """(jobs camera 0 → camera k of every clip rendered with a shared first frame, clips without one)."""
    jobs, unshared = [], []
    clips = synth_clip_folders(root)
    if not clips:
        raise UserError(f"--synth-root {root} holds no synthetic clips (folders with meta.json and cam0/); "
                        "make them with `t2v synth --preset train`")
    for clip in clips:
        meta = json.loads((clip / SYNTH_META).read_text())
        if not meta.get("shared_first_frame"):
            unshared.append(clip)
            continue
        for k in range(1, int(meta["cameras"])):
            source, target = clip / "cam0", clip / f"cam{k}"
            jobs.append(PairJob(id=sample_id(view_name(source), view_name(target)), source=source, target=target))
    return jobs, unshared


def curate_jobs(jobs: list[PairJob], out: str | os.PathLike, options: CurateOptions | None = None,
                overwrite: bool = False, progress: Callable[[int, int, str, str], None] | None = None,
                step: Progress | None = None) -> RunSummary:
    """Curate ``jobs`` into dataset folder ``out`` (layout: :mod:`.samples`).

    ``progress(i, n, id, status)`` after each job, status 'written', 'skipped' or 'empty: …';
    ``step(fraction, message)`` within a job (the tracker's progress).
    Bad input (unreadable views, mismatched views) raises :class:`UserError` naming the pair;
    samples finished before it stay.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    summary = RunSummary(written=[], skipped=[], empty={}, counts={}, index=out / "index.json")
    for i, job in enumerate(jobs):
        folder = out / job.id
        if is_complete(folder) and not overwrite:
            summary.skipped.append(job.id)
            status = "skipped"
        else:
            source = load_view(job.source, job.source_camera)
            target = load_view(job.target, job.target_camera)
            try:
                pair = curate_pair(source, target, options, step)
            except UserError as exc:
                raise UserError(f"{job.id}: {exc}") from exc
            if pair.counts["kept"] == 0:
                summary.empty[job.id] = json.dumps(pair.counts)
                status = f"empty: {pair.counts}"
            else:
                write_sample(pair, folder)
                summary.written.append(job.id)
                summary.counts[job.id] = pair.counts
                status = "written"
        if progress is not None:
            progress(i, len(jobs), job.id, status)
    if sample_folders(out):
        summary.index = write_index(out)
    return summary
