"""The engine worker: one job (``engine/jobs.py``) in a subprocess, progress and the outcome as JSON lines.

Blender's UI thread never runs the engine; it starts ``python -m <pkg>.engine.worker`` (where
``<pkg>`` is ``track2view``, or ``bl_ext.<repo>.track2view`` inside Blender) and talks to it:

- request: ONE JSON line on stdin, ``{"job": "<name>", "params": {...}}``: a job of
  :data:`~.jobs.JOB_MODULES` and its settings (checked by the child, :func:`~.jobs.make_params`).
- replies, one JSON object per stdout line::

      {"type": "progress", "fraction": 0.25, "message": "frame 3/12"}
      {"type": "result", "data": {...}}
      {"type": "error", "kind": "UserError" | "Exception", "message": "...", "traceback": "..."}

  Anything else the job prints goes to stderr, never into the protocol.
- cancel: the parent terminates the process (SIGTERM); the worker turns it into
  :class:`~.errors.Cancelled` so the atomic writers remove their temporary files, and exits with
  :data:`CANCELLED_EXIT_CODE` without a reply. After :data:`TERMINATE_GRACE_S` the parent kills it
  (from a thread when the caller must not block, e.g. Blender's UI).

:class:`WorkerProcess` is the parent's side (bpy-free): it builds the child's command line and
environment so the child imports exactly the parent's copy of the package under the parent's name.
:class:`Subprocess` is the job runner built on it.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from .errors import Cancelled, UserError, cancel_on_sigterm, disk_error_message
from .jobs import JobRequest, Progress, Runner, run_job
from .runtime import limit_blas_threads

CANCELLED_EXIT_CODE = 130
TERMINATE_GRACE_S = 10.0
"""Seconds a terminated worker gets to clean up its temporary outputs before it is killed."""

STDERR_TAIL_LINES = 40
"""Lines of the worker's stderr kept to explain a crash."""

POLL_S = 0.1
"""How often a blocking parent checks whether its job was cancelled."""

_ENGINE = __name__.rsplit(".", 1)[0] if __name__ != "__main__" else __spec__.name.rsplit(".", 1)[0]
_PACKAGE_DIR = Path(__file__).resolve().parents[1]

# Run in the child before anything else: register the package at ``argv[2]`` under the parent's
# import name ``argv[1]`` (parent packages such as ``bl_ext.user_default`` become empty namespaces),
# then run its worker module as __main__.
_BOOTSTRAP = """\
import importlib.util, runpy, sys, types
name, root = sys.argv[1], sys.argv[2]
del sys.argv[1:3]
parts = name.split(".")
for i in range(1, len(parts)):
    parent = ".".join(parts[:i])
    if parent not in sys.modules:
        module = types.ModuleType(parent)
        module.__path__ = []
        sys.modules[parent] = module
spec = importlib.util.spec_from_file_location(name, root + "/__init__.py", submodule_search_locations=[root])
package = importlib.util.module_from_spec(spec)
sys.modules[name] = package
spec.loader.exec_module(package)
runpy.run_module(name + ".engine.worker", run_name="__main__", alter_sys=True)
"""


class WorkerError(RuntimeError):
    """The job failed with an unexpected exception, or the worker process crashed."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details

    def __reduce__(self):  # keeps the details when sent between processes (Ray)
        return type(self), (str(self), self.details)


# -- the child -------------------------------------------------------------------------------------

def main() -> int:
    """Serve one request from stdin; returns the exit code (0 result, 1 error, 130 cancelled)."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)                      # stray prints (also from C) go to stderr
    sys.stdout = sys.stderr
    cancel_on_sigterm()

    def emit(message: dict) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    def progress(fraction: float, message: str) -> None:
        emit({"type": "progress", "fraction": fraction, "message": message})

    try:
        request = json.loads(sys.stdin.readline() or "null")
        if not isinstance(request, dict) or not isinstance(request.get("job"), str):
            raise ValueError(f"request must be {{'job': NAME, 'params': {{...}}}}, got {request!r}")
        result = run_job(request["job"], request.get("params", {}), progress)
        emit({"type": "result", "data": json.loads(json.dumps(result if result is not None else {}))})
        return 0
    except Cancelled:
        return CANCELLED_EXIT_CODE
    except UserError as exc:
        emit({"type": "error", "kind": "UserError", "message": str(exc), "traceback": ""})
        return 1
    except OSError as exc:
        message = disk_error_message(exc)
        emit({"type": "error", "kind": "UserError" if message else "Exception",
              "message": message or f"{type(exc).__name__}: {exc}", "traceback": "" if message else traceback.format_exc()})
        return 1
    except BaseException as exc:  # noqa: BLE001 - everything else is reported as an engine bug
        emit({"type": "error", "kind": "Exception", "message": f"{type(exc).__name__}: {exc}",
              "traceback": traceback.format_exc()})
        return 1


# -- the parent ------------------------------------------------------------------------------------

def blender_script_dirs() -> list[str]:
    """Blender's script folders, when this process has imported bpy (which puts them first on ``sys.path``).

    A worker must not inherit them: their pure-Python ``bpy`` package would shadow the bpy module of
    a worker that renders with Blender (``synth-render``), and no engine job needs them.
    """
    script_paths = getattr(getattr(sys.modules.get("bpy"), "utils", None), "script_paths", None)
    return [os.path.realpath(p) for p in script_paths()] if callable(script_paths) else []


def _inside(path: str, root: str) -> bool:
    path = os.path.realpath(path)
    return path == root or path.startswith(root + os.sep)


def worker_command(python: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Command line and environment of a worker that imports this very copy of the package.

    ``python`` defaults to ``sys.executable`` (Blender's Python in desktop Blender, the venv's with
    the bpy module). The child's PYTHONPATH is the parent's ``sys.path`` (Blender's extension
    site-packages included) plus the folder holding the package, less Blender's script folders
    (:func:`blender_script_dirs`).
    """
    package = _ENGINE.rsplit(".", 1)[0]
    blender = blender_script_dirs()
    paths = [str(_PACKAGE_DIR.parent)] + [p for p in sys.path if p and os.path.isdir(p)
                                          and not any(_inside(p, root) for root in blender)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["PYTHONIOENCODING"] = "utf-8"
    limit_blas_threads(env)
    return [python or sys.executable, "-c", _BOOTSTRAP, package, str(_PACKAGE_DIR)], env


class WorkerProcess:
    """A running worker: send the request, read its replies on a thread, cancel it.

    Messages arrive in :attr:`messages` (a queue of the protocol's dicts); when the process has
    exited a final ``{"type": "exit", "code": int, "stderr": str}`` follows.
    """

    def __init__(self, job: str, params: dict, python: str | None = None):
        command, env = worker_command(python)
        self.job = job
        self.messages: queue.Queue[dict] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                         errors="replace")
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            self._process.stdin.write(json.dumps({"job": job, "params": params}) + "\n")
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # the child died at start; the exit message says why

    def _read_stderr(self) -> None:
        for line in self._process.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _read_stdout(self) -> None:
        for line in self._process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(message, dict) and "type" in message:
                self.messages.put(message)
        code = self._process.wait()
        self._stderr_thread.join(timeout=2.0)
        self.messages.put({"type": "exit", "code": code, "stderr": "\n".join(self._stderr)})

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def cancel(self, grace: float = TERMINATE_GRACE_S, wait: bool = True) -> None:
        """Terminate the worker (it removes its temporary outputs), kill it after ``grace`` seconds.

        ``wait=True`` returns once the worker has exited; ``wait=False`` returns at once (Blender's
        UI thread) and a daemon thread kills the worker if it outlives ``grace``.
        """
        if self._process.poll() is not None:
            return
        self._process.terminate()
        killer = threading.Thread(target=self._kill_after, args=(grace,), daemon=True)
        killer.start()
        if wait:
            killer.join()

    def _kill_after(self, grace: float) -> None:
        try:
            self._process.wait(grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def run(self, progress: Progress | Callable[[float, str], None] | None = None) -> dict:
        """Block until the job ends: its result; raises UserError / WorkerError.

        Cancelling ``progress`` (from another thread), or Ctrl-C, terminates the worker and raises Cancelled.
        """
        progress = Progress.of(progress)
        outcome = JobOutcome()
        try:
            while not outcome.done:
                try:
                    message = self.messages.get(timeout=POLL_S)
                except queue.Empty:
                    progress.check()
                    continue
                outcome.handle(message, progress)
        except (KeyboardInterrupt, Cancelled):
            self.cancel()
            raise Cancelled(f"{self.job} cancelled") from None
        return outcome.value()


class Subprocess(Runner):
    """Runs each job in a fresh worker process of ``python`` (default: this interpreter)."""

    def __init__(self, python: str | None = None):
        self.python = python

    def run(self, request: JobRequest, progress: Progress | None = None) -> dict:
        return WorkerProcess(request.name, request.settings(), self.python).run(progress)


class JobOutcome:
    """Folds a worker's messages into its outcome (shared by the blocking and the modal callers)."""

    def __init__(self):
        self.done = False
        self.result: dict | None = None
        self.error: dict | None = None

    def handle(self, message: dict, on_progress: Callable[[float, str], None] | None = None) -> None:
        kind = message.get("type")
        if kind == "progress" and on_progress is not None:
            on_progress(float(message.get("fraction", 0.0)), str(message.get("message", "")))
        elif kind == "result":
            self.result = message.get("data") or {}
        elif kind == "error":
            self.error = message
        elif kind == "exit":
            self.done = True
            if self.result is None and self.error is None:
                tail = message.get("stderr", "").strip().splitlines()[-1:] or [""]
                self.error = {"kind": "Exception", "traceback": message.get("stderr", ""),
                              "message": f"the engine worker crashed (exit code {message.get('code')}) "
                                         f"{tail[0]}".strip()}

    def value(self) -> dict:
        """The result; raises UserError for bad input and WorkerError for bugs and crashes."""
        if self.error is not None:
            if self.error.get("kind") == "UserError":
                raise UserError(self.error.get("message", ""))
            raise WorkerError(self.error.get("message", "the engine failed"), self.error.get("traceback", ""))
        return self.result or {}


if __name__ == "__main__":
    code = main()
    if "bpy" in sys.modules:
        # bpy 4.2/4.5 as a module can crash in interpreter finalisation once an add-on was registered;
        # the reply is written and flushed, so leave without finalising.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
