"""Jobs as Ray tasks: many at once on this machine (Ray started here) or on a cluster (``address``).

Each task runs one job (``engine/jobs.py``) in a Ray worker process with ``cpus_per_job`` CPUs and
``gpus_per_job`` GPUs, so Ray runs as many at once as the machine or cluster has room for. A job's
progress is not streamed back; :meth:`RayRunner.map` reports each job as it ends.

Cancelling is cooperative, so that nothing half-written stays: the runner raises a flag (a small Ray
actor every task watches from a thread), each job stops at its next progress report with
:class:`~.errors.Cancelled` and its atomic writers remove their partial outputs, and the runner
waits for that. Only a job that does not stop within :data:`CANCEL_WAIT_S` is killed. On a cluster
every node needs track2view installed in the same Python, and paths must be on storage every node sees.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence

from .errors import Cancelled, require_tool
from .jobs import JobRequest, Progress, Runner, run_job

CANCEL_WAIT_S = 30.0
"""Seconds cancelled tasks get to stop and clean up."""

POLL_S = 0.5
"""How often :meth:`RayRunner.map` checks whether it was cancelled while its jobs run."""


class CancelFlag:
    """Raised once to stop the jobs of a runner (a Ray actor: every task on every node sees it)."""

    def __init__(self) -> None:
        self.raised = False

    def raise_(self) -> None:
        self.raised = True

    def is_raised(self) -> bool:
        return self.raised


def _run_task(name: str, params: dict, flag) -> dict:
    """A Ray task's body: the job ``name`` in this worker process, cancelled when ``flag`` is raised."""
    import ray

    cancel, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(POLL_S):
            if ray.get(flag.is_raised.remote()):
                cancel.set()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return run_job(name, params, Progress(cancel=cancel))
    finally:
        done.set()


class RayRunner(Runner):
    """Runs jobs as Ray tasks; use as a context manager (Ray starts on entry and stops on exit).

    ``address`` joins a running cluster (``ray.init(address=...)``); without it Ray starts on this
    machine with ``workers`` CPUs (default: all of them).
    """

    def __init__(self, address: str | None = None, workers: int | None = None, cpus_per_job: float = 1.0,
                 gpus_per_job: float = 0.0):
        self.address, self.workers = address, workers
        self.cpus_per_job, self.gpus_per_job = cpus_per_job, gpus_per_job
        self._ray = None
        self._remote = None
        self._flag = None

    def __enter__(self) -> RayRunner:
        ray = require_tool("ray", "running jobs on Ray")
        options = {"address": self.address} if self.address else {"num_cpus": self.workers or os.cpu_count()}
        ray.init(**options, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        self._ray = ray
        self._remote = ray.remote(_run_task).options(num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job,
                                                     max_retries=0)
        self._flag = ray.remote(num_cpus=0)(CancelFlag).remote()
        return self

    def __exit__(self, *exc) -> None:
        if self._ray is not None:
            self._ray.shutdown()
            self._ray = None

    def submit(self, request: JobRequest):
        """Start ``request``'s job; a handle for :meth:`next_done` and :meth:`cancel`."""
        if self._ray is None:
            raise RuntimeError("RayRunner: use it in a `with` block")
        return self._remote.remote(request.name, request.settings(), self._flag)

    def next_done(self, handles: Sequence, timeout: float | None = None) -> tuple[object, dict | BaseException] | None:
        """Wait for the first of ``handles`` to end: (its handle, its result or the exception it raised),
        or None after ``timeout`` seconds.

        A job's own exception comes back as itself (a UserError stays one); a lost worker (out of
        memory, a node gone) as a RuntimeError saying so.
        """
        done, _ = self._ray.wait(list(handles), num_returns=1, timeout=timeout)
        if not done:
            return None
        handle = done[0]
        try:
            return handle, self._ray.get(handle)
        except self._ray.exceptions.RayTaskError as exc:
            return handle, exc.cause if isinstance(exc.cause, BaseException) else RuntimeError(str(exc))
        except self._ray.exceptions.RayError as exc:
            return handle, RuntimeError(f"the Ray task failed: {str(exc).splitlines()[0]}")

    def cancel(self, handles: Sequence) -> None:
        """Stop every running job of this runner (``handles``, the ones not yet ended) and wait for them to
        clean up; a job still running after :data:`CANCEL_WAIT_S` is killed. Later jobs run normally."""
        if not handles:
            return
        flag, self._flag = self._flag, self._ray.remote(num_cpus=0)(CancelFlag).remote()
        self._ray.get(flag.raise_.remote())
        _, stuck = self._ray.wait(list(handles), num_returns=len(handles), timeout=CANCEL_WAIT_S)
        for handle in stuck:
            self._ray.cancel(handle, force=True)

    def run(self, request: JobRequest, progress: Progress | None = None) -> dict:
        return next(self.map([request], progress))

    def map(self, requests: Sequence[JobRequest], progress: Progress | Callable | None = None) -> Iterator[dict]:
        """The results of ``requests`` in order, the jobs run at once; the first error cancels the rest.

        ``progress`` hears of each job as it ends ("[done/total] label: done").
        """
        progress = Progress.of(progress)
        running: dict = {}
        results: dict[int, dict] = {}
        try:
            for i, request in enumerate(requests):
                running[self.submit(request)] = i
            while running:
                ended = self.next_done(running, timeout=POLL_S)
                if ended is None:
                    progress.check()
                    continue
                handle, outcome = ended
                i = running.pop(handle)
                if isinstance(outcome, BaseException):
                    raise outcome
                results[i] = outcome
                progress.count(len(results), len(requests),
                               f"[{len(results)}/{len(requests)}] {requests[i].label or requests[i].name}: done")
        except (KeyboardInterrupt, Cancelled, Exception):
            self.cancel(list(running))
            raise
        return iter([results[i] for i in range(len(requests))])
