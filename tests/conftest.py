"""Shared test setup: no network, isolated Blender user folders, helpers for bpy subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# No code path may reach a model hub; make any attempt fail loudly.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture
def blender_user(tmp_path) -> dict[str, str]:
    """Environment for a Blender subprocess with its own, empty user folders."""
    env = dict(os.environ)
    env["BLENDER_USER_RESOURCES"] = str(tmp_path / "blender_user")
    return env


# bpy 4.2/4.5 as a module crash in interpreter finalisation once a PropertyGroup with Python functions
# (a method, a poll) has been registered, even after it is unregistered (bpy 5.0 does not). The
# subprocess runs the code, unregisters the add-on, flushes and leaves without finalising; a crash
# while the code runs is still a crash.
_WRAPPER = """
import os, sys, traceback
status = 0
try:
    exec(compile({code!r}, "<run_python>", "exec"), {{"__name__": "__main__"}})
except SystemExit as exc:
    status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if not isinstance(exc.code, (int, type(None))):
        print(exc.code, file=sys.stderr)
except BaseException:
    traceback.print_exc()
    status = 1
if "track2view" in sys.modules:
    sys.modules["track2view"].unregister()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
"""


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run ``code`` in a fresh interpreter of this venv (the add-on unregistered afterwards); fail the
    test with its output on error."""
    wrapped = _WRAPPER.format(code=textwrap.dedent(code))
    result = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, env=env,
                            timeout=timeout, cwd=REPO)
    if result.returncode != 0:
        pytest.fail(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture
def bpy_factory():
    """bpy with factory settings before and after the test (bpy state is process-global)."""
    bpy = pytest.importorskip("bpy")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield bpy
    bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.fixture
def addon(bpy_factory):
    """bpy (factory settings) with the add-on registered in this process; unregistered afterwards
    unless something else had registered it already."""
    import track2view

    owned = not track2view._registered_modules
    track2view.register()
    yield bpy_factory
    if owned:
        track2view.unregister()
