"""EngineJobMixin: run an engine job in the worker subprocess from an operator.

A subclass (also deriving ``bpy.types.Operator``) sets ``job`` (a job name of ``engine/jobs.py``, e.g. ``"track"``)
and implements ``build_params(context) -> dict`` (may raise UserError: reported, nothing runs),
``on_result(context, result)`` and optionally ``cleanup(context)`` (runs however the job ends).
See ``engine/worker.py`` for the protocol.

- Interactive Blender: ``execute`` starts the worker and returns RUNNING_MODAL; a window timer polls
  the worker's messages (read by a thread into a queue), progress goes to the status bar, the
  window manager's progress cursor and ``scene.track2view.status/progress`` (the panel). Esc
  terminates the worker (outputs are atomic: nothing half-written) and reports CANCELLED.
- Background (``bpy.app.background``: timers never fire): the same worker runs synchronously, progress
  lines are printed, Ctrl-C cancels. Failures are reported as ERROR and return CANCELLED; called from
  Python (``bpy.ops...``) an ERROR report raises RuntimeError, so ``blender -b --python-exit-code 1
  --python-expr ...`` exits non-zero.
"""

from __future__ import annotations

import queue
import sys
import traceback

import bpy

from ..engine.errors import Cancelled, UserError
from ..engine.worker import JobOutcome, WorkerError, WorkerProcess

TIMER_INTERVAL_S = 0.1

_RUNNING: dict[str, object] = {}
"""Job name → the operator instance running it: one job of a kind at a time (they compete for memory)."""


class EngineJobMixin:
    job: str = ""

    _worker: WorkerProcess | None = None
    _outcome: JobOutcome | None = None
    _timer = None

    # -- for subclasses -----------------------------------------------------------------------------
    def build_params(self, context) -> dict:
        raise NotImplementedError

    def on_result(self, context, result: dict) -> None:
        pass

    def cleanup(self, context) -> None:
        """Called once when the job has ended in any way (finished, failed, cancelled)."""

    # -- running --------------------------------------------------------------------------------------
    def execute(self, context):
        if self.job in _RUNNING:
            self.report({"ERROR"}, f"{self.bl_label}: already running; wait for it or press Esc to cancel it")
            return {"CANCELLED"}
        try:
            params = self.build_params(context)
        except UserError as exc:
            return self._fail(context, str(exc))
        self._start(context, params)
        if bpy.app.background or context.window is None:
            return self._run_blocking(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(TIMER_INTERVAL_S, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0.0, 1.0)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC":
            self.cancel(context)
            self.report({"WARNING"}, f"{self.bl_label}: cancelled; no partial output was kept")
            return {"CANCELLED"}
        if event.type == "TIMER":
            return self._pump(context)
        return {"PASS_THROUGH"}

    def cancel(self, context) -> None:
        """Esc, or Blender ending the operator (e.g. loading a file): terminate the worker.

        Returns at once: the worker removes its temporary outputs as it exits (a thread kills it
        after ``TERMINATE_GRACE_S``); the UI never waits for it.
        """
        if self._worker is not None:
            self._worker.cancel(wait=False)
        self._stop(context, "Cancelled")

    def _start(self, context, params: dict) -> None:
        self._outcome = JobOutcome()
        self._set_status(context, f"{self.bl_label}: starting", 0.0)
        self._worker = WorkerProcess(self.job, params)
        _RUNNING[self.job] = self

    def _progress(self, context):
        def show(fraction: float, message: str) -> None:
            self._set_status(context, message or self.bl_label, fraction)
            if bpy.app.background:
                print(f"{self.bl_label}: {fraction:4.0%} {message}", flush=True)
        return show

    def _pump(self, context):
        """Handle the worker's pending messages; finish when it has exited."""
        show = self._progress(context)
        while not self._outcome.done:
            try:
                self._outcome.handle(self._worker.messages.get_nowait(), show)
            except queue.Empty:
                return {"PASS_THROUGH"}
        return self._finish(context)

    def _run_blocking(self, context):
        try:
            while not self._outcome.done:
                self._outcome.handle(self._worker.messages.get(), self._progress(context))
        except (KeyboardInterrupt, Cancelled):  # Ctrl-C, or the job running this Blender was cancelled
            self._worker.cancel(wait=True)
            self._stop(context, "Cancelled")
            self.report({"WARNING"}, f"{self.bl_label}: cancelled; no partial output was kept")
            return {"CANCELLED"}
        return self._finish(context)

    def _finish(self, context):
        """Hand the outcome to ``on_result``; whatever happens, the job is unregistered (``_stop``)."""
        failure = None
        try:
            result = self._outcome.value()
            self.on_result(context, result)
        except (UserError, Cancelled) as exc:
            failure = str(exc)
        except WorkerError as exc:
            print(exc.details, file=sys.stderr)
            failure = f"engine error: {exc} (details in the system console)"
        except Exception as exc:  # a bug in on_result: report it instead of leaving the job running
            traceback.print_exc()
            failure = f"{type(exc).__name__}: {exc} (see the console)"
        finally:
            self._worker = None
            self._stop(context, "Done" if failure is None else f"Failed: {failure}")
        if failure is not None:
            self.report({"ERROR"}, f"{self.bl_label}: {failure}")
            return {"CANCELLED"}
        return {"FINISHED"}

    def _fail(self, context, message: str):
        self._stop(context, f"Failed: {message}")
        self.report({"ERROR"}, f"{self.bl_label}: {message}")
        return {"CANCELLED"}

    # -- UI state -------------------------------------------------------------------------------------
    def _stop(self, context, status: str) -> None:
        if _RUNNING.get(self.job) is self:
            del _RUNNING[self.job]
        self.cleanup(context)
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            context.window_manager.progress_end()
            self._timer = None
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        self._set_status(context, status, 0.0, status_bar=False)

    def _set_status(self, context, text: str, fraction: float, status_bar: bool = True) -> None:
        settings = context.scene.track2view
        settings.status = text
        settings.progress = fraction
        if self._timer is not None:
            context.window_manager.progress_update(fraction)
        if status_bar and context.workspace is not None:
            context.workspace.status_text_set(f"{text}  ({fraction:.0%}, Esc to cancel)")
        if context.screen is not None:
            for area in context.screen.areas:
                area.tag_redraw()
