"""The platform zip installed into Blender-as-a-module with nothing else, and the whole workflow run.

For each bpy version (default 4.2.23, 4.5.15, 5.0.1) a venv under ``cache/bare_bpy/`` holds only
that bpy and what bpy itself depends on (numpy 1.26.4, as Blender ships it). The zip with the wheels
(``--zip``, or built here with ``t2v build-extension --platform linux-x64 --with-wheels``) is
installed with ``extensions.package_install_files`` in a fresh Blender user folder, and the workflow
of ``tests/installed_workflow.py`` runs: Import Footage, Reconstruct Tracks, Add Target Camera, an
orbit, Coverage Preview, Preview New View and Render New View with the built-in model, on a small
Cycles-rendered shot. Prints the zip's size, the packages in each venv and each step's seconds.
Not a test (it installs about 1.2 GB per Blender version); run it after changing the dependencies.
Run: ``.venv/bin/python -m bench.check_platform_zip [--zip FILE] [--versions 4.2.23,4.5.15,5.0.1]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.installed_workflow import workflow_code
from track2view.engine.packaging import BLENDER_NUMPY

CACHE = Path("cache/bare_bpy").resolve()
PYTHON = os.environ.get("PYTHON", "python3.11")


def bare_venv(version: str) -> Path:
    """A venv with bpy ``version``, its own dependencies and Blender's numpy only (made once; bpy 4.2's
    metadata does not pin numpy, so pip alone would take numpy 2)."""
    venv = CACHE / f"bpy-{version}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([PYTHON, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"bpy=={version}", BLENDER_NUMPY],
                       check=True)
        (venv / ".installed").touch()
    return python


def shot() -> Path:
    """First frame of a small rendered shot with parallax and a moving ball (made once, in this venv)."""
    folder = CACHE / "shot"
    if not (folder / "0001.png").exists():
        from tests.tracking_scene import render_clip
        from track2view.engine.io.video import write_frames

        frames, *_ = render_clip(T=8, size=(160, 120))
        write_frames(frames, folder)
    return folder / "0001.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, help="platform zip (default: build one)")
    parser.add_argument("--versions", default="4.2.23,4.5.15,5.0.1")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    zip_path = args.zip
    if zip_path is None:
        subprocess.run([str(Path(sys.executable).parent / "t2v"), "build-extension", "--platform", "linux-x64",
                        "--with-wheels", "--out", str(CACHE / "dist")], check=True)
        zip_path = next((CACHE / "dist").glob("*linux_x64.zip"))
    print(f"zip: {zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB)")
    first = shot()
    for version in args.versions.split(","):
        python = bare_venv(version)
        packages = subprocess.run([str(python), "-m", "pip", "list", "--format", "freeze"], capture_output=True,
                                  text=True, check=True).stdout.split()
        print(f"\nbpy {version}: venv holds {', '.join(packages)}")
        with tempfile.TemporaryDirectory(prefix="t2v-bare-") as tmp:
            root = Path(tmp)
            env = {**os.environ, "BLENDER_USER_RESOURCES": str(root / "blender_user")}
            # bpy 4.x crashes in interpreter finalisation once the add-on has registered (tests/conftest.py).
            code = workflow_code(zip_path.resolve(), first, root / "shot.blend") + (
                "\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n")
            result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp)
            # The operators' progress and reports are long: the step timings and the summary line.
            print("\n".join(line for line in result.stdout.splitlines()
                            if line.startswith(("step ", version.rsplit(".", 1)[0]))))
            if result.returncode != 0:
                print(f"FAILED ({result.returncode}):\n{result.stderr[-3000:]}")


if __name__ == "__main__":
    main()
