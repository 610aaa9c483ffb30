"""Batches of ``t2v`` commands with dependencies, run on Ray: this machine by default, or a cluster.

A batch file holds one job per line (JSON lines)::

    {"name": "shot010-track", "argv": ["track", "shot010.mp4", "--out", "shot010.npz"]}
    {"name": "shot010-render", "argv": ["render", "--footage", "shot010.mp4", ...], "after": ["shot010-track"]}

``argv`` is any ``t2v`` command line (without ``t2v``); ``after`` (optional) names jobs that must
finish first. Every job runs ``python -m track2view.engine ARGV`` (the engine job ``command``) as
a Ray task (:class:`~.ray_runner.RayRunner`) that asks for ``cpus_per_job`` CPUs and
``gpus_per_job`` GPUs, so Ray runs as many at once as the machine (or cluster) has room for. A job's output goes to ``DIR/logs/<name>.log``. A failing job does not stop
the others: it is retried up to ``max_retries`` times, then the jobs after it are skipped, saying so.

``DIR/batch.json`` (rewritten atomically after every change) records per job: ``status`` (pending,
running, done, failed, skipped, cancelled), ``exit_code``, ``attempts``, ``started``/``ended``
(ISO times), ``seconds``, ``log``, ``argv``, ``outputs`` (the values of ``--out``/``--output`` in
``argv``) and, for skipped jobs, ``reason``. Run the same batch again into the same DIR and the jobs
recorded done with the same ``argv`` are skipped (said so), unless a job they follow runs again; the
others run again.

On a cluster (``address``), paths in ``argv`` and DIR must be on storage every node sees, and every
node needs track2view installed in the same Python.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from .errors import Cancelled, UserError
from .io.atomic import atomic_file
from .jobs import JobRequest, Progress
from .jobs import job as register_job
from .ray_runner import RayRunner

MANIFEST = "batch.json"
LOGS = "logs"
OUTPUT_FLAGS = ("--out", "--output")
POLL_S = 0.5
"""How often a running command's job checks whether it was cancelled."""
_PACKAGE = __name__.rsplit(".", 2)[0]


@dataclasses.dataclass(frozen=True)
class Job:
    """One line of a batch file: ``name``, ``argv`` (a ``t2v`` command line) and the jobs it runs ``after``."""

    name: str
    argv: tuple[str, ...]
    after: tuple[str, ...] = ()


def read_jobs(path: str | os.PathLike) -> list[Job]:
    """The jobs of a batch file, checked: JSON objects, unique names, known and acyclic ``after``.

    Raises:
        UserError: naming the file and line of the first problem.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"batch file not found: {path}")
    jobs: dict[str, Job] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            doc = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise UserError(f"{where}: not JSON ({exc})") from None
        if not isinstance(doc, dict) or set(doc) - {"name", "argv", "after"}:
            raise UserError(f"{where}: expected an object with 'name', 'argv' and optionally 'after'")
        name, argv, after = doc.get("name"), doc.get("argv"), doc.get("after", [])
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise UserError(f"{where}: 'name' must be a non-empty string without '/' (it names the log file)")
        if name in jobs:
            raise UserError(f"{where}: job '{name}' is already defined on line {lines[name]}")
        if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
            raise UserError(f"{where}: 'argv' must be a non-empty list of strings, e.g. [\"track\", \"shot.mp4\", ...]")
        if not (isinstance(after, list) and all(isinstance(a, str) for a in after)):
            raise UserError(f"{where}: 'after' must be a list of job names")
        jobs[name], lines[name] = Job(name, tuple(argv), tuple(after)), number
    if not jobs:
        raise UserError(f"{path}: no jobs")
    for job in jobs.values():
        unknown = [a for a in job.after if a not in jobs]
        if unknown:
            raise UserError(f"{path}, line {lines[job.name]}: job '{job.name}' runs after unknown jobs {unknown}")
    _check_acyclic(jobs, lambda name: f"{path}, line {lines[name]}")
    return list(jobs.values())


def _check_acyclic(jobs: dict[str, Job], where: Callable[[str], str]) -> None:
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = chain[chain.index(name):] + (name,)
            raise UserError(f"{where(name)}: the jobs wait for each other: {' -> '.join(cycle)}")
        state[name] = "visiting"
        for before in jobs[name].after:
            visit(before, chain + (name,))
        state[name] = "done"

    for name in jobs:
        visit(name, ())


def outputs_of(argv: tuple[str, ...]) -> list[str]:
    """The values of the output flags (``--out``, ``--output``) in ``argv``."""
    found = []
    for i, arg in enumerate(argv):
        flag, sep, value = arg.partition("=")
        if flag in OUTPUT_FLAGS:
            found.append(value if sep else (argv[i + 1] if i + 1 < len(argv) else ""))
    return [f for f in found if f]


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclasses.dataclass(frozen=True)
class CommandParams:
    """The ``command`` job: ``t2v ARGV`` run in this Python from folder ``cwd``, its output in the file ``log``."""

    argv: list[str]
    log: str
    cwd: str | None = None


@register_job("command", CommandParams)
def run_command(params: CommandParams, progress: Progress) -> dict:
    """Run a ``t2v`` command line: ``{"exit_code": N}``. Cancelling the job (or interrupting it, as
    Ray's cancel does) terminates the command, which removes its partial outputs."""
    Path(params.log).parent.mkdir(parents=True, exist_ok=True)
    cwd = params.cwd if params.cwd and os.path.isdir(params.cwd) else None
    with open(params.log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", f"{_PACKAGE}.engine", *params.argv], stdout=out,
                                   stderr=subprocess.STDOUT, cwd=cwd)
        try:
            while process.poll() is None:
                try:
                    process.wait(POLL_S)
                except subprocess.TimeoutExpired:
                    progress.check()
        except (KeyboardInterrupt, Cancelled):
            process.terminate()
            process.wait()
            raise
    return {"exit_code": process.returncode}


class Batch:
    """The state of a batch in ``out`` (its manifest), and the scheduling rules (no Ray here)."""

    def __init__(self, jobs: list[Job], out: Path) -> None:
        self.jobs = {job.name: job for job in jobs}
        self.out = out
        earlier = {}
        if (out / MANIFEST).is_file():
            try:
                earlier = json.loads((out / MANIFEST).read_text()).get("jobs", {})
            except (OSError, json.JSONDecodeError) as exc:
                raise UserError(f"{out / MANIFEST} is not readable JSON ({exc}); move it away to start over") from None
        self.records: dict[str, dict] = {}
        self.reused: list[str] = []
        self._started_at: dict[str, float] = {}
        done = {job.name for job in jobs if earlier.get(job.name, {}).get("status") == "done"
                and tuple(earlier[job.name].get("argv", ())) == job.argv}
        # A job after one that runs again runs again too: its inputs may change.
        while stale := {name for name in done if any(a not in done for a in self.jobs[name].after)}:
            done -= stale
        for job in jobs:
            if job.name in done:
                self.records[job.name] = earlier[job.name]
                self.reused.append(job.name)
            else:
                self.records[job.name] = {"status": "pending", "argv": list(job.argv), "attempts": 0,
                                          "log": f"{LOGS}/{job.name}.log", "outputs": outputs_of(job.argv)}

    def save(self) -> None:
        with atomic_file(self.out / MANIFEST) as tmp:
            tmp.write_text(json.dumps({"jobs": self.records}, indent=1))

    def status(self, name: str) -> str:
        return self.records[name]["status"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records.values():
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return counts

    def ready(self) -> list[str]:
        """Pending jobs whose ``after`` jobs are all done; pending jobs after a job that will not be done
        are marked skipped (with the reason) first."""
        changed = True
        while changed:
            changed = False
            for name, job in self.jobs.items():
                blocking = [a for a in job.after if self.status(a) in ("failed", "skipped", "cancelled")]
                if self.status(name) == "pending" and blocking:
                    self.records[name] |= {"status": "skipped", "reason": f"after {self.status(blocking[0])} "
                                                                          f"job '{blocking[0]}'"}
                    changed = True
        return [name for name, job in self.jobs.items()
                if self.status(name) == "pending" and all(self.status(a) == "done" for a in job.after)]

    def started(self, name: str) -> None:
        record = self.records[name]
        record |= {"status": "running", "started": _now(), "attempts": record["attempts"] + 1}
        record.pop("ended", None)
        self._started_at[name] = time.time()

    def ended(self, name: str, exit_code: int, retries_left: bool) -> str:
        """Record the end of one attempt; returns the job's new status (pending again when retried)."""
        record = self.records[name]
        status = "done" if exit_code == 0 else ("pending" if retries_left and exit_code != 130 else "failed")
        record |= {"status": status, "exit_code": exit_code, "ended": _now(),
                   "seconds": round(time.time() - self._started_at.pop(name), 3)}
        return status

    def cancel_running(self) -> None:
        for record in self.records.values():
            if record["status"] in ("running", "pending"):
                record["status"] = "cancelled"


def run_batch(jobs: list[Job], out: str | os.PathLike, *, address: str | None = None, max_retries: int = 0,
              cpus_per_job: float = 1, gpus_per_job: float = 0, workers: int | None = None,
              report: Callable[[str], None] = print) -> int:
    """Run ``jobs`` on Ray (module docstring); returns 0 when every job is done, else 1.

    ``address`` joins a running cluster (``ray.init(address=...)``); without it Ray starts on this
    machine with ``workers`` CPUs (default: all). ``report`` gets one line per event.
    """
    if max_retries < 0 or cpus_per_job <= 0 or gpus_per_job < 0:
        raise UserError("--max-retries must be ≥ 0, --cpus-per-job > 0 and --gpus-per-job ≥ 0")
    out = Path(out)
    (out / LOGS).mkdir(parents=True, exist_ok=True)
    batch = Batch(jobs, out)
    for name in batch.reused:
        report(f"{name}: done in an earlier run, skipped")
    cwd = os.getcwd()
    running: dict = {}
    with RayRunner(address, workers, cpus_per_job, gpus_per_job) as ray:
        try:
            while True:
                for name in batch.ready():
                    batch.started(name)
                    params = {"argv": list(batch.jobs[name].argv), "log": str(out / LOGS / f"{name}.log"), "cwd": cwd}
                    running[ray.submit(JobRequest("command", params, name))] = name
                    report(f"{name}: started (attempt {batch.records[name]['attempts']})")
                batch.save()
                if not running:
                    break
                handle, outcome = ray.next_done(running)
                name = running.pop(handle)
                if isinstance(outcome, BaseException):  # the worker died (out of memory, a node lost)
                    report(f"{name}: {outcome}".splitlines()[0])
                    code = -1
                else:
                    code = int(outcome["exit_code"])
                attempts = batch.records[name]["attempts"]
                status = batch.ended(name, code, retries_left=attempts <= max_retries)
                counts = batch.counts()
                report(f"[{counts.get('done', 0)}/{len(jobs)} done, {counts.get('failed', 0)} failed, "
                       f"{len(running)} running] {name}: " + (
                           f"done in {batch.records[name]['seconds']:.1f} s" if status == "done" else
                           f"exit code {code}, retrying" if status == "pending" else
                           f"failed (exit code {code}), see {out / batch.records[name]['log']}"))
        except (KeyboardInterrupt, Cancelled):
            ray.cancel(list(running))  # each job stops its command, which removes its partial outputs
            batch.cancel_running()
            batch.save()
            raise Cancelled("batch cancelled; the running jobs were stopped") from None
    for name, record in batch.records.items():
        if record["status"] == "skipped":
            report(f"{name}: skipped, {record['reason']}")
    failed = [name for name, record in batch.records.items() if record["status"] != "done"]
    if failed:
        report(f"{len(failed)} of {len(jobs)} jobs did not finish: {', '.join(failed)} (manifest: {out / MANIFEST})")
        return 1
    report(f"all {len(jobs)} jobs done (manifest: {out / MANIFEST})")
    return 0
