"""The add-on's runtime needs only the packages its platform zip bundles (pyproject ``dependencies``).

The ``tools`` extra (ONNX export, LoRA training, curation and evaluation against ground truth,
plots) is installed here but not in Blender: the whole command-line workflow — track, preview and
a render with the built-in model — must run with those packages unimportable.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from track2view.engine.io.video import write_frames

from .tiny_shot import render, source_camera

REPO = Path(__file__).resolve().parents[1]
# What the tools extra pulls in besides its own packages (peft brings transformers, onnx ml_dtypes).
TOOL_DEPENDENCIES = ("transformers", "ml_dtypes")


def tool_modules() -> list[str]:
    """Top-level modules of the ``tools`` extra's packages and of what they bring."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return [spec.split("==")[0].replace("-", "_") for spec in extras["tools"]] + list(TOOL_DEPENDENCIES)


def test_the_workflow_runs_without_the_tools(tmp_path):
    camera = source_camera((96, 64), 6)
    frames, _ = render(camera)
    write_frames(frames, tmp_path / "shot", "{:04d}.png", start=0)
    blocked = tool_modules()
    assert {"onnx", "scipy", "pycolmap", "matplotlib", "peft"} <= set(blocked)
    script = textwrap.dedent(f"""
        import sys

        for name in {blocked!r}:
            sys.modules[name] = None  # as if not installed: import fails, find_spec says None
        from track2view.engine.cli import main
        from track2view.engine.geometry.camera import CameraTrack, save_camera_json
        from track2view.engine.io.tracks import load_tracks

        root = {str(tmp_path)!r}
        assert main(["track", root + "/shot", "--out", root + "/tracks.npz", "--max-points", "300"]) == 0
        tracks = load_tracks(root + "/tracks.npz")  # the recovered source camera as the target
        save_camera_json(CameraTrack(K=tracks.K, w2c=tracks.w2c, size=tracks.size), root + "/CAM.json")
        common = ["--footage", root + "/shot", "--tracks", root + "/tracks.npz", "--camera", root + "/CAM.json"]
        assert main(["render", *common, "--preview", "--out", root + "/preview"]) == 0
        assert main(["render", *common, "--steps", "1", "--out", root + "/model"]) == 0
        loaded = sorted(m for m, module in sys.modules.items() if module and m.split(".")[0] in {blocked!r})
        print("loaded tools:", loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                            env={"TRACK2VIEW_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded tools: []" in result.stdout
    for name in ("preview", "model"):
        assert len(list((tmp_path / name / "frames").glob("*.png"))) == len(frames)
    assert not (tmp_path / "cache").exists()  # the built-in model's own ONNX export ran, none was made
    preview = json.loads((tmp_path / "preview" / "render.json").read_text())
    assert preview["hole_fraction"] < 0.01  # the source camera reproduces the footage
