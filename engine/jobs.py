"""Engine jobs: named units of work with typed parameters, one progress/cancel type, and runners.

A *job* is a function ``fn(params, progress) -> dict`` registered under a name with :func:`job`;
``params`` is an instance of the job's parameter dataclass, built from a JSON object by
:func:`make_params` (unknown or missing settings and wrong types are a :class:`UserError` naming
them), and the result is a JSON object. Jobs write their outputs atomically (``io/atomic.py``), so
a cancelled job leaves nothing half-written.

:class:`Progress` is how every job, and every long engine function, reports how far it is and
learns that it should stop: call it as ``progress(fraction, message)``; once cancelled, that call
raises :class:`~.errors.Cancelled`.

Runners run jobs by name; all take the same :class:`JobRequest` and give the same results:

- :class:`InProcess` (here): in this process, one after the other (``t2v`` commands, tests);
- :class:`~.worker.Subprocess`: each job in a fresh engine worker process, progress streamed back
  (Blender's operators: the UI thread never runs the engine; Blender renders for synth and the demo);
- :class:`~.ray_runner.RayRunner`: jobs at once as Ray tasks on this machine or a cluster
  (``t2v batch``; ``--ray`` of synth and curate).

Job names and the modules that define them are listed in :data:`JOB_MODULES`; a module is imported
only when one of its jobs runs (``bridge`` modules import ``bpy``: they run in a Blender worker).
"""

from __future__ import annotations

import dataclasses
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .errors import Cancelled, UserError

JOB_MODULES = {
    "selftest": "engine.jobs",
    "track": "engine.tracking.pipeline",
    "coverage": "engine.coverage",
    "render": "engine.render",
    "command": "engine.batch",
    "synth-clip": "engine.synth.generate",
    "synth-render": "bridge.synth_render",
    "demo-scene": "bridge.demo_scene",
    "curate-pair": "engine.curation.run",
    "eval-case": "engine.eval.harness",
}
"""Every job: its name → the module (under the package) that registers it."""

_PACKAGE = __name__.rsplit(".", 2)[0]


class Progress:
    """How far a job is and whether it should stop: the one progress/cancel type of the engine.

    ``progress(fraction, message)`` reports ``fraction`` (0..1) of this object's share of the whole
    job to ``report(fraction_of_whole, message)``; :meth:`span` hands a part of the range to a step.
    Once :meth:`cancel` was called (or the shared ``cancel`` event is set), every report raises
    :class:`Cancelled`, so a job stops at its next report; :meth:`check` does the same without one.
    """

    def __init__(self, report: Callable[[float, str], None] | None = None, cancel: threading.Event | None = None,
                 *, start: float = 0.0, end: float = 1.0, prefix: str = ""):
        self._report = report
        self._cancel = cancel if cancel is not None else threading.Event()
        self._start, self._end, self._prefix = start, end, prefix

    @classmethod
    def of(cls, progress: Progress | Callable[[float, str], None] | None) -> Progress:
        """``progress`` itself, a Progress reporting to a ``(fraction, message)`` callable, or a silent one."""
        return progress if isinstance(progress, Progress) else cls(progress)

    def __call__(self, fraction: float, message: str = "") -> None:
        self.check()
        if self._report is not None:
            fraction = min(max(float(fraction), 0.0), 1.0)
            self._report(self._start + (self._end - self._start) * fraction, self._prefix + str(message))

    def count(self, done: int, total: int, message: str = "") -> None:
        """Report ``done`` of ``total`` equal parts."""
        self(done / max(total, 1), message)

    def span(self, start: float, end: float, prefix: str = "") -> Progress:
        """The part ``start``..``end`` of this range, its messages prefixed (same cancel state)."""
        width = self._end - self._start
        return Progress(self._report, self._cancel, start=self._start + width * start,
                        end=self._start + width * end, prefix=self._prefix + prefix)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""
        if self._cancel.is_set():
            raise Cancelled("cancelled")


@dataclasses.dataclass(frozen=True)
class JobType:
    """A registered job: its ``name``, its parameter dataclass ``params`` and its function ``fn``."""

    name: str
    params: type
    fn: Callable[[Any, Progress], dict]


_REGISTRY: dict[str, JobType] = {}


def job(name: str, params: type) -> Callable:
    """Register ``fn(params: params, progress: Progress) -> dict`` as the job ``name`` (a decorator)."""
    if name not in JOB_MODULES:
        raise ValueError(f"job {name!r} is not listed in JOB_MODULES")
    if not dataclasses.is_dataclass(params):
        raise TypeError(f"job {name!r}: its params must be a dataclass")

    def register(fn: Callable[[Any, Progress], dict]) -> Callable[[Any, Progress], dict]:
        _REGISTRY[name] = JobType(name, params, fn)
        return fn
    return register


def job_type(name: str) -> JobType:
    """The job called ``name`` (its module imported); :class:`UserError` for an unknown name."""
    if name not in JOB_MODULES:
        raise UserError(f"unknown job {name!r}; the jobs are: {', '.join(sorted(JOB_MODULES))}")
    if name not in _REGISTRY:
        __import__(f"{_PACKAGE}.{JOB_MODULES[name]}")
    return _REGISTRY[name]


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _matches(value: Any, hint: Any) -> bool:
    """Whether the JSON value ``value`` fits the annotation ``hint`` (str, int, float, bool, ``list[...]``,
    dict, unions and Optional, Any)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, (list, tuple)) and all(_matches(v, typing.get_args(hint)[0]) for v in value)
    return isinstance(value, origin or hint)


def make_params(name: str, raw: Mapping | Any) -> Any:
    """The parameters of job ``name`` from a JSON object (or already its dataclass), checked.

    Raises:
        UserError: naming the job and the setting that is unknown, missing or of the wrong type.
    """
    kind = job_type(name)
    if isinstance(raw, kind.params):
        return raw
    if not isinstance(raw, Mapping):
        raise UserError(f"{name}: the settings must be an object, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(kind.params)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UserError(f"{name}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(kind.params)
    missing = [k for k, f in fields.items() if k not in raw and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise UserError(f"{name}: missing setting(s) {', '.join(missing)}")
    for key, value in raw.items():
        if not _matches(value, hints[key]):
            raise UserError(f"{name}: setting {key} must be {_type_name(hints[key])}, got {value!r}")
    return kind.params(**raw)


def run_job(name: str, params: Mapping | Any, progress: Progress | Callable[[float, str], None] | None = None
            ) -> dict:
    """Run job ``name`` in this process: its result (a JSON object)."""
    kind = job_type(name)
    result = kind.fn(make_params(name, params), Progress.of(progress))
    return {} if result is None else result


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """One job to run: its ``name``, its ``params`` (JSON object or dataclass) and a ``label`` for messages."""

    name: str
    params: Mapping | Any
    label: str = ""

    def settings(self) -> dict:
        """The params as a JSON object (for a runner that sends them to another process)."""
        return dataclasses.asdict(self.params) if dataclasses.is_dataclass(self.params) else dict(self.params)


class Runner:
    """Runs jobs; subclasses define :meth:`run` (one job) and may run :meth:`map` at once."""

    def run(self, request: JobRequest, progress: Progress | None = None) -> dict:
        raise NotImplementedError

    def map(self, requests: Sequence[JobRequest], progress: Progress | Callable | None = None) -> Iterator[dict]:
        """The results of ``requests``, in order, one after the other; a job's error stops the rest.

        ``progress`` covers all of them (each its equal share; messages prefixed with its label).
        """
        progress = Progress.of(progress)
        for i, request in enumerate(requests):
            step = progress.span(i / len(requests), (i + 1) / len(requests),
                                 f"[{i + 1}/{len(requests)}] {request.label}: " if request.label else "")
            yield self.run(request, step)


class InProcess(Runner):
    """Runs each job in this process."""

    def run(self, request: JobRequest, progress: Progress | None = None) -> dict:
        return run_job(request.name, request.params, progress)


@dataclasses.dataclass(frozen=True)
class SelftestParams:
    """``steps`` reports, ``delay`` seconds apart; ``out`` (optional folder, written atomically, a file a
    step); ``fail``: "user" / "exception" / "exit" (raise a UserError / RuntimeError / exit with code 3
    after the steps); ``ignore_terminate``: ignore SIGTERM, as a hung job would."""

    steps: int = 3
    delay: float = 0.0
    out: str | None = None
    fail: str | None = None
    ignore_terminate: bool = False


@job("selftest", SelftestParams)
def selftest(params: SelftestParams, progress: Progress) -> dict:
    """A job that exercises the runners and the worker protocol (tests; checking an install)."""
    import os
    import signal
    import sys
    import time
    from pathlib import Path

    from .io.atomic import atomic_dir

    if params.ignore_terminate:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def work(folder: Path | None) -> None:
        for i in range(params.steps):
            time.sleep(params.delay)
            if folder is not None:
                (folder / f"{i:04d}.txt").write_text(str(i))
            progress.count(i + 1, params.steps, f"step {i + 1}/{params.steps}")

    if params.out:
        with atomic_dir(params.out) as tmp:
            work(tmp)
    else:
        work(None)
    if params.fail == "user":
        raise UserError("selftest: asked to fail with a UserError")
    if params.fail == "exception":
        raise RuntimeError("selftest: asked to fail with an exception")
    if params.fail == "exit":
        os._exit(3)
    return {"steps": params.steps, "python": sys.executable, "package": _PACKAGE}
