"""EngineJobMixin in bpy 5.0.1: the modal pump, Esc cancel, the blocking background path, errors."""

import pytest

from .conftest import run_python

pytestmark = pytest.mark.bpy

_SETUP = """
import os, time
import bpy, track2view
from track2view.operators.engine_job import EngineJobMixin
track2view.register()

class Job(EngineJobMixin):
    bl_label = "Selftest"
    job = "selftest"
    def __init__(self, params):
        self.params, self.reports, self.results = params, [], []
    def build_params(self, context):
        return self.params
    def on_result(self, context, result):
        self.results.append(result)
    def report(self, level, message):
        self.reports.append((sorted(level)[0], message))

class Event:
    def __init__(self, type):
        self.type = type

ctx = bpy.context
settings = ctx.scene.track2view
"""


def test_modal_pump_and_esc_cancel_leave_no_partial_output(tmp_path):
    out = tmp_path / "render"
    run_python(_SETUP + f"""
op = Job({{"steps": 400, "delay": 0.05, "out": {str(out)!r}}})
op._start(ctx, op.params)
deadline = time.monotonic() + 60
while settings.progress == 0.0 and time.monotonic() < deadline:
    assert op.modal(ctx, Event("TIMER")) == {{"PASS_THROUGH"}}
    time.sleep(0.05)
assert settings.status.startswith("step "), settings.status
other = Job({{"steps": 1}})
assert other.execute(ctx) == {{"CANCELLED"}} and "already running" in other.reports[0][1]
assert op.modal(ctx, Event("MOUSEMOVE")) == {{"PASS_THROUGH"}}
worker = op._worker
started = time.monotonic()
assert op.modal(ctx, Event("ESC")) == {{"CANCELLED"}}
assert time.monotonic() - started < 1.0, "Esc waited for the worker"
from track2view.engine.worker import TERMINATE_GRACE_S
deadline = time.monotonic() + TERMINATE_GRACE_S + 5
while worker.running and time.monotonic() < deadline:
    time.sleep(0.05)
assert not worker.running
assert os.listdir({str(tmp_path)!r}) == [], os.listdir({str(tmp_path)!r})
assert op.reports[0][0] == "WARNING" and "cancelled" in op.reports[0][1]
assert settings.status == "Cancelled" and op.results == []

op = Job({{"steps": 2}})
op._start(ctx, op.params)
state = {{"PASS_THROUGH"}}
while state == {{"PASS_THROUGH"}}:
    state = op.modal(ctx, Event("TIMER"))
    time.sleep(0.02)
assert state == {{"FINISHED"}} and op.results[0]["steps"] == 2 and settings.status == "Done"
print("ok")
""")


def test_background_execute_runs_synchronously_and_reports_errors():
    out = run_python(_SETUP + """
assert bpy.app.background
op = Job({"steps": 3})
assert op.execute(ctx) == {"FINISHED"} and op.results[0]["steps"] == 3

op = Job({"fail": "user"})
assert op.execute(ctx) == {"CANCELLED"}
assert op.reports == [("ERROR", "Selftest: selftest: asked to fail with a UserError")], op.reports
assert settings.status.startswith("Failed: selftest")

op = Job({"fail": "exit"})
assert op.execute(ctx) == {"CANCELLED"}
assert "crashed (exit code 3)" in op.reports[0][1], op.reports

class Buggy(Job):
    def on_result(self, context, result):
        raise RuntimeError("boom")

op = Buggy({"steps": 1})
assert op.execute(ctx) == {"CANCELLED"}
assert op.reports == [("ERROR", "Selftest: RuntimeError: boom (see the console)")], op.reports
assert settings.status.startswith("Failed: RuntimeError: boom")
op = Job({"steps": 1})
assert op.execute(ctx) == {"FINISHED"} and op.results[0]["steps"] == 1, op.reports
print("ok")
""")
    assert "Selftest:  33% step 1/3" in out and out.strip().endswith("ok")
