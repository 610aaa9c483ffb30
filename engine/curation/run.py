"""Curate many view pairs into one dataset folder, resumably.

A :class:`PairJob` names one source → target pair (paths + optional camera files + sample id).
:func:`explicit_jobs` makes them from ``--source``/``--target`` arguments, :func:`synth_jobs` from
every ``t2v synth`` clip under a root (camera 0 → each other camera). :func:`curate_jobs` runs
them as ``curate-pair`` jobs on a runner (one at a time, or at once on Ray: ``t2v curate --ray``):
finished samples are skipped (unless ``overwrite``), each new sample folder appears whole,
pairs with no reliable correspondence are reported and written nowhere, and ``index.json`` is
rebuilt at the end (never an index of an empty dataset).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from ..errors import UserError
from ..jobs import InProcess, JobRequest, Progress, Runner
from ..jobs import job as register_job
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


@dataclasses.dataclass(frozen=True)
class CuratePairParams:
    """The ``curate-pair`` job: the views ``source`` and ``target`` (and their camera files, None: beside
    them) curated into the sample folder ``folder`` (sample ``id``) with ``options``
    (:class:`.pair.CurateOptions` as a JSON object); ``overwrite`` a complete sample."""

    id: str
    source: str
    target: str
    folder: str
    source_camera: str | None = None
    target_camera: str | None = None
    options: dict | None = None
    overwrite: bool = False


@register_job("curate-pair", CuratePairParams)
def curate_pair_job(params: CuratePairParams, progress: Progress) -> dict:
    """Curate one pair: ``{"id", "status": "written" | "skipped" | "empty", "counts"}``."""
    folder = Path(params.folder)
    if is_complete(folder) and not params.overwrite:
        return {"id": params.id, "status": "skipped", "counts": None}
    source = load_view(Path(params.source), None if params.source_camera is None else Path(params.source_camera))
    target = load_view(Path(params.target), None if params.target_camera is None else Path(params.target_camera))
    try:
        pair = curate_pair(source, target, CurateOptions(**(params.options or {})), progress)
    except UserError as exc:
        raise UserError(f"{params.id}: {exc}") from exc
    if pair.counts["kept"] == 0:
        return {"id": params.id, "status": "empty", "counts": pair.counts}
    write_sample(pair, folder)
    return {"id": params.id, "status": "written", "counts": pair.counts}


def curate_jobs(jobs: list[PairJob], out: str | os.PathLike, options: CurateOptions | None = None,
                overwrite: bool = False, runner: Runner | None = None,
                progress: Progress | None = None) -> RunSummary:
    """Curate ``jobs`` into dataset folder ``out`` (layout: :mod:`.samples`) as ``curate-pair`` jobs on
    ``runner`` (default: one after the other, here).

    ``progress`` hears of each pair ("[i/n] id: ..."). Bad input (unreadable views, mismatched
    views) raises :class:`UserError` naming the pair; samples finished before it stay.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    options_json = dataclasses.asdict(options or CurateOptions())
    requests = [JobRequest("curate-pair", {
        "id": job.id, "source": str(job.source.resolve()), "target": str(job.target.resolve()),
        "folder": str((out / job.id).resolve()),
        "source_camera": None if job.source_camera is None else str(job.source_camera.resolve()),
        "target_camera": None if job.target_camera is None else str(job.target_camera.resolve()),
        "options": options_json, "overwrite": overwrite}, job.id) for job in jobs]
    summary = RunSummary(written=[], skipped=[], empty={}, counts={}, index=out / "index.json")
    for result in (runner or InProcess()).map(requests, progress):
        if result["status"] == "skipped":
            summary.skipped.append(result["id"])
        elif result["status"] == "empty":
            summary.empty[result["id"]] = json.dumps(result["counts"])
        else:
            summary.written.append(result["id"])
            summary.counts[result["id"]] = result["counts"]
    if sample_folders(out):
        summary.index = write_index(out)
    return summary
