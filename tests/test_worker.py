"""The worker subprocess protocol: progress, result, UserError, exception, crash, cancel."""

import json
import signal
import subprocess
import sys
import time

import pytest

from track2view.engine import worker
from track2view.engine.errors import UserError
from track2view.engine.worker import WorkerError, WorkerProcess

from .conftest import REPO

SELFTEST = "selftest"


def test_progress_then_result():
    seen = []
    result = WorkerProcess(SELFTEST, {"steps": 4}).run(lambda f, m: seen.append((f, m)))
    assert seen == [(0.25, "step 1/4"), (0.5, "step 2/4"), (0.75, "step 3/4"), (1.0, "step 4/4")]
    assert result["steps"] == 4 and result["package"] == "track2view"


def test_user_error_exception_and_crash_come_back_as_errors():
    with pytest.raises(UserError, match="asked to fail with a UserError"):
        WorkerProcess(SELFTEST, {"fail": "user"}).run()
    with pytest.raises(WorkerError, match="RuntimeError: selftest") as info:
        WorkerProcess(SELFTEST, {"fail": "exception"}).run()
    assert "Traceback" in info.value.details
    with pytest.raises(WorkerError, match=r"crashed \(exit code 3\)"):
        WorkerProcess(SELFTEST, {"fail": "exit"}).run()


@pytest.mark.parametrize("job", ["os:system", "track2view.engine.jobs:selftest", "render_job", ""])
def test_only_named_jobs_run(job):
    with pytest.raises(UserError, match="unknown job"):
        WorkerProcess(job, {}).run()


def test_settings_are_checked_by_name():
    with pytest.raises(UserError, match="selftest: setting steps must be int, got 'four'"):
        WorkerProcess(SELFTEST, {"steps": "four"}).run()
    with pytest.raises(UserError, match="unknown setting"):
        WorkerProcess(SELFTEST, {"stpes": 4}).run()


def test_cancel_terminates_and_leaves_no_partial_output(tmp_path):
    out = tmp_path / "frames"
    proc = WorkerProcess(SELFTEST, {"steps": 200, "delay": 0.05, "out": str(out)})
    first = proc.messages.get(timeout=30)
    assert first["type"] == "progress"
    assert any(p.name.startswith(".frames.partial.") for p in tmp_path.iterdir())
    proc.cancel()
    assert not proc.running
    last = proc.messages.get(timeout=10)
    while last["type"] != "exit":
        last = proc.messages.get(timeout=10)
    assert last["code"] == worker.CANCELLED_EXIT_CODE
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_speaks_json_lines_and_keeps_prints_out():
    request = json.dumps({"job": SELFTEST, "params": {"steps": 2}}) + "\n"
    done = subprocess.run([sys.executable, "-m", "track2view.engine.worker"], input=request,
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["type"] for m in lines] == ["progress", "progress", "result"]
    assert done.returncode == 0


def test_bootstrap_imports_the_package_under_the_parents_name():
    # As inside Blender, where the add-on is bl_ext.<repo>.track2view.
    command = [sys.executable, "-c", worker._BOOTSTRAP, "bl_ext.user_default.track2view", str(REPO)]
    request = json.dumps({"job": SELFTEST, "params": {"steps": 1}}) + "\n"
    done = subprocess.run(command, input=request, capture_output=True, text=True, timeout=60, cwd="/")
    result = json.loads(done.stdout.splitlines()[-1])
    assert result == {"type": "result", "data": {"steps": 1, "python": sys.executable,
                                                 "package": "bl_ext.user_default.track2view"}}, done.stderr


def test_cancel_without_waiting_returns_at_once_and_kills_after_the_grace():
    proc = WorkerProcess(SELFTEST, {"steps": 200, "delay": 0.05, "ignore_terminate": True})
    assert proc.messages.get(timeout=30)["type"] == "progress"
    started = time.monotonic()
    proc.cancel(grace=0.5, wait=False)
    assert time.monotonic() - started < 0.3 and proc.running
    last = proc.messages.get(timeout=10)
    while last["type"] != "exit":
        last = proc.messages.get(timeout=10)
    assert last["code"] == -signal.SIGKILL


def test_worker_runs_numpy_on_one_blas_thread_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert worker.worker_command()[1]["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    assert worker.worker_command()[1]["OPENBLAS_NUM_THREADS"] == "4"


def test_a_worker_started_after_bpy_was_imported_can_render_with_blender():
    # bpy puts Blender's script folders first on sys.path; their `bpy` package must not reach a worker,
    # where it would shadow the bpy module (a synth-render job would fail: no module named '_bpy').
    pytest.importorskip("bpy")
    script = ("import bpy, json\n"
              "from track2view.engine.worker import worker_command\n"
              "print(json.dumps(worker_command()[1]['PYTHONPATH']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO)
    path = json.loads(done.stdout.splitlines()[-1])
    check = subprocess.run([sys.executable, "-c", "import bpy; print(bpy.app.version_string)"], capture_output=True,
                           text=True, timeout=120, env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"})
    assert check.returncode == 0, check.stderr[-2000:]
