"""The Flamenco job type (farm/flamenco/track2view_render.js), run under node against a stub of
Flamenco's job-compiler API: one Blender task per shot, running the add-on's headless render command."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .conftest import REPO

JOB_TYPE = REPO / "farm" / "flamenco" / "track2view_render.js"
STUB = REPO / "tests" / "flamenco_author_stub.js"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node (Node.js) is not installed")


def compile_job(tmp_path, **settings) -> dict:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    result = subprocess.run(["node", str(STUB), str(JOB_TYPE), str(path)], capture_output=True, text=True,
                            check=True, timeout=60)
    return json.loads(result.stdout)


def test_one_blender_task_per_shot_with_the_headless_render_command(tmp_path):
    out = compile_job(tmp_path, shots="/proj/seq010/shot_010.blend\n/proj/seq010/shot_020.blend; ",
                      camera="CamB", preview=True, output_root="/renders/seq010/", model="")
    assert out["jobType"]["label"] == "Track2View Render"
    assert {s["key"] for s in out["jobType"]["settings"]} == {"shots", "camera", "preview", "output_root", "model"}
    tasks = out["tasks"]
    assert [t["name"] for t in tasks] == ["render shot_010", "render shot_020"]
    assert all(t["type"] == "blender" and len(t["commands"]) == 1 for t in tasks)
    command = tasks[1]["commands"][0]
    assert command["type"] == "blender-render" and command["parameters"]["exe"] == "{blender}"
    assert command["parameters"]["args"] == [
        "--python-exit-code", "1", "-c", "track2view", "render", "/proj/seq010/shot_020.blend",
        "--camera", "CamB", "--preview", "--output", "/renders/seq010/shot_020"]


def test_defaults_and_windows_paths(tmp_path):
    out = compile_job(tmp_path, shots="C:\\proj\\shot_030.blend", camera="", preview=False, output_root="",
                      model="D:\\models\\wan")
    args = out["tasks"][0]["commands"][0]["parameters"]["args"]
    assert args == ["--python-exit-code", "1", "-c", "track2view", "render", "C:\\proj\\shot_030.blend",
                    "--model", "D:\\models\\wan"]
    out = compile_job(tmp_path, shots="C:\\proj\\a.blend", output_root="R:\\renders")
    assert out["tasks"][0]["commands"][0]["parameters"]["args"][-2:] == ["--output", "R:\\renders\\a"]


def test_bad_settings_are_clear_errors(tmp_path):
    assert "no shots" in compile_job(tmp_path, shots=" ; \n")["error"]
    clash = compile_job(tmp_path, shots="/a/shot.blend;/b/shot.blend", output_root="/renders")
    assert "two shots are named 'shot'" in clash["error"]
