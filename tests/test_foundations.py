"""The package, the add-on registration, the CLI and the extension zip."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
import zipfile

import pytest

import track2view
from track2view.engine import __version__
from track2view.engine.cli import main
from track2view.engine.packaging import _excluded, build_extension

from .conftest import REPO, run_python
from .installed_workflow import workflow_code


def test_engine_import_pulls_no_bpy():
    out = run_python("""
        import importlib, pkgutil, sys
        import track2view.engine as engine
        for info in pkgutil.walk_packages(engine.__path__, engine.__name__ + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
        print("bpy" in sys.modules)
    """)
    assert out.strip() == "False"


def test_version_matches_manifest():
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert manifest["version"] == __version__
    assert manifest["id"] == "track2view"
    assert len(manifest["tagline"]) <= 64
    assert list(manifest["permissions"]) == ["files"]


def test_cli_help_and_version(capsys):
    assert main([]) == 2
    out = subprocess.run([sys.executable, "-m", "track2view.engine", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"t2v {__version__}"
    help_text = subprocess.run([sys.executable, "-m", "track2view.engine", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "build-extension" in help_text


@pytest.mark.bpy
def test_register_unregister_round_trip_is_repeatable():
    out = run_python("""
        import bpy, track2view
        from track2view import operators, panels, preferences, properties

        def ours():
            names = [c.__name__ for m in (operators, panels, preferences, properties)
                     for c in vars(m).values() if isinstance(c, type) and hasattr(c, "bl_rna")]
            names += [c.__name__ for c in panels.main_panel.CLASSES]
            return sorted(n for n in set(names) if hasattr(bpy.types, n))

        for _ in range(2):
            track2view.register()
            assert hasattr(bpy.types.Scene, "track2view")
            assert hasattr(bpy.types, "VIEW3D_PT_track2view"), ours()
            track2view.unregister()
            assert not hasattr(bpy.types.Scene, "track2view")
            assert ours() == [], ours()
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_register_refuses_naming_the_missing_packages_before_registering_anything(monkeypatch):
    import importlib.util

    import track2view

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("cv2", "torch") else real(name, *a))
    with pytest.raises(ImportError, match=r"opencv-python-headless, torch\. This looks like the code-only zip"):
        track2view.register()
    assert track2view._registered_modules == []


def _wheel_with_requirements(path, requires: list[str]):
    """An empty wheel at ``path`` whose METADATA lists ``requires`` (Requires-Dist lines)."""
    name, version = path.name.split("-")[:2]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
            name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)))


def test_wheels_resolve_for_the_target_platform_against_blenders_numpy(monkeypatch, tmp_path):
    """pip evaluates dependency markers for the machine it runs on; the build follows them for the target."""
    from track2view.engine import packaging
    from track2view.engine.errors import UserError

    index = {  # what the registry offers: name -> (wheel file, its requirements)
        "numpy": ("numpy-1.26.4-cp311-cp311-win_amd64.whl", []),
        "torch": ("torch-2.13.0-cp311-cp311-win_amd64.whl",
                  ["sympy>=1.13.3", "nvidia-nccl-cu13==2.29.7; platform_system == 'Linux'",
                   "numpy; extra == 'opt-einsum'"]),
        "sympy": ("sympy-1.14.0-py3-none-any.whl", ["mpmath<1.4,>=1.1.0"]),
        "mpmath": ("mpmath-1.3.0-py3-none-any.whl", []),
        "onnx": ("onnx-1.23.2-cp311-cp311-win_amd64.whl", ["numpy>=2.0"]),
    }
    (tmp_path / "ml_dtypes-0.7.0-cp311-cp311-win_amd64.whl").write_bytes(b"")  # an earlier build's
    asked = []

    def fake_pip(cmd, **kwargs):
        requirement = cmd[-1]
        asked.append(requirement)
        assert "--no-deps" in cmd and cmd[cmd.index("--platform") + 1] == "win_amd64"
        name = requirement.split("=")[0].split("<")[0].split(">")[0]
        if name not in index:
            return subprocess.CompletedProcess(cmd, 1, "", f"ERROR: No matching distribution found for {requirement}")
        file, requires = index[name]
        _wheel_with_requirements(tmp_path / file, requires)
        return subprocess.CompletedProcess(cmd, 0, f"Saved {tmp_path / file}\n", "")

    monkeypatch.setattr(packaging.subprocess, "run", fake_pip)
    wheels = packaging.download_wheels(["torch==2.13.0"], "windows-x64", tmp_path)
    # Blender's numpy first (then left out); no Linux-only CUDA wheel; sympy and mpmath followed.
    assert asked == ["numpy==1.26.4", "torch==2.13.0", "sympy>=1.13.3", "mpmath<1.4,>=1.1.0"]
    assert [w.name for w in wheels] == ["mpmath-1.3.0-py3-none-any.whl", "sympy-1.14.0-py3-none-any.whl",
                                        "torch-2.13.0-cp311-cp311-win_amd64.whl"]
    # A wheel that needs another numpy than Blender's is named.
    with pytest.raises(UserError, match=r"numpy>=2.0 conflicts with numpy-1.26.4"):
        packaging.download_wheels(["onnx==1.23.2"], "windows-x64", tmp_path)


def test_exclude_patterns_follow_blender_rules():
    patterns = ["/tests/", "__pycache__/", "*.pyc", "/Makefile"]
    assert _excluded("tests", True, patterns)
    assert not _excluded("engine/tests", True, patterns)
    assert _excluded("engine/__pycache__", True, patterns)
    assert _excluded("engine/x.pyc", False, patterns)
    assert _excluded("Makefile", False, patterns)
    assert not _excluded("engine/Makefile", False, patterns)


@pytest.mark.bpy
def test_extension_zip_validates_installs_enables_and_disables(tmp_path, blender_user):
    zip_path = build_extension(REPO, tmp_path / "dist")
    names = zipfile.ZipFile(zip_path).namelist()
    assert "blender_manifest.toml" in names and "__init__.py" in names
    assert "engine/io/tracks.py" in names
    assert not any(n.startswith(("tests/", "bench/", "farm/", ".git", ".venv", "wheels/")) for n in names)
    # The built-in model with its conditioner's ONNX export: the zip has no exporter (no onnx package).
    assert any(n.startswith("models/default/conditioner/conditioner-") and n.endswith(".onnx") for n in names)
    assert not any("__pycache__" in n for n in names)

    import bpy  # noqa: F401  (only to locate Blender's own validator)

    validator = next(REPO.joinpath(".venv").glob("lib/python3.11/site-packages/bpy/*/scripts/"
                                                  "addons_core/bl_pkg/cli/blender_ext.py"), None)
    if validator is not None:
        subprocess.run([sys.executable, str(validator), "validate", str(zip_path)], check=True,
                       capture_output=True)

    out = run_python(f"""
        import bpy
        import addon_utils
        module = "bl_ext.user_default.track2view"
        result = bpy.ops.extensions.package_install_files(
            filepath={str(zip_path)!r}, repo="user_default", enable_on_install=True)
        assert result == {{"FINISHED"}}, result
        assert module in bpy.context.preferences.addons
        prefs = bpy.context.preferences.addons[module].preferences
        assert prefs.device == "AUTO"
        assert "user_default" in prefs.resolved_cache_dir()
        assert hasattr(bpy.types, "VIEW3D_PT_track2view")
        assert hasattr(bpy.types.Scene, "track2view")
        addon_utils.disable(module, default_set=True)
        assert module not in bpy.context.preferences.addons
        assert not hasattr(bpy.types, "VIEW3D_PT_track2view")
        assert not hasattr(bpy.types.Scene, "track2view")
        print("ok")
    """, env=blender_user)
    assert out.strip().endswith("ok")


def test_package_root_imports_lazily():
    assert callable(track2view.register) and callable(track2view.unregister)


def test_make_refuses_a_wrong_python_in_one_line(tmp_path):
    fake = tmp_path / "python3.12"
    fake.write_text('#!/bin/sh\necho 3.12\n')
    fake.chmod(0o755)
    result = subprocess.run(["make", "--no-print-directory", "check-python", f"PYTHON={fake}"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1 and "needs Python 3.11" in lines[0] and "3.12" in lines[0]
    assert "Traceback" not in result.stderr


def _fake_wheel(folder, name: str, body: str):
    """A minimal pure-Python wheel ``name`` whose module runs ``body`` on import."""
    path = folder / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = {f"{name}/__init__.py": body, f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/top_level.txt": f"{name}\n"}
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for n, text in files.items():
            archive.writestr(n, text)
    return path


def test_bundled_wheels_are_imported_in_a_clean_python_and_a_broken_one_is_named(tmp_path):
    import sys as _sys

    from track2view.engine import packaging
    from track2view.engine.errors import UserError

    good = _fake_wheel(tmp_path, "goodpkg", "import numpy\nassert numpy.__version__ == '1.26.4'\n")
    broken = _fake_wheel(tmp_path, "brokenpkg", "raise SystemError('needs numpy 2')\n")
    host = packaging.HOST_PLATFORMS[_sys.platform]
    assert packaging.wheel_modules(good) == ["goodpkg"]
    assert packaging.check_wheels_import([good], host, blender=None) == ["goodpkg"]
    with pytest.raises(UserError, match=r"brokenpkg-1.0-py3-none-any.whl: 'import brokenpkg' fails .*needs numpy 2"):
        packaging.check_wheels_import([good, broken], host, blender=None)
    other = next(p for p in packaging.PLATFORM_TAGS if p != host)
    assert packaging.check_wheels_import([broken], other) == []  # another platform's wheels cannot run here


@pytest.mark.bpy
def test_installed_zip_runs_the_whole_workflow_render_included(tmp_path, blender_user):
    """The code-only zip installed as an extension: import, reconstruct, target camera, move, coverage,
    preview and Render New View with the built-in model, in the Blender version of this venv (4.2, 4.5
    or 5.0). ``bench/check_platform_zip.py`` runs the same with the platform zip in a bare bpy."""
    zip_path = build_extension(REPO, tmp_path / "dist")
    out = run_python(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from tests.tracking_scene import render_clip
        from track2view.engine.io.video import write_frames

        frames, *_ = render_clip(T=8, size=(160, 120))
        write_frames(frames, {str(tmp_path / "shot")!r})
    """) + workflow_code(zip_path, tmp_path / "shot" / "0001.png", tmp_path / "shot.blend"), env=blender_user)
    assert "['preview_001', 'render_001']" in out, out
