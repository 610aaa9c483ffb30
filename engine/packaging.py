"""Build the installable extension zip (bpy-free; follows Blender's extension spec).

The zip holds the repository root minus ``[build] paths_exclude_pattern`` of the manifest,
with ``blender_manifest.toml`` at its top level. With wheels, the manifest copy inside the zip
lists them under ``wheels`` and names the target ``platforms``; the manifest in the repo is
never modified.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .errors import UserError
from .io.atomic import atomic_file

#: Blender platform name → pip platform tags for Python 3.11 wheels.
PLATFORM_TAGS: dict[str, list[str]] = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                  "manylinux2014_x86_64", "linux_x86_64"],
    "windows-x64": ["win_amd64"],
    "macos-arm64": ["macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_13_0_arm64",
                    "macosx_14_0_arm64", "macosx_15_0_arm64"],
}

#: Packages Blender already ships; their wheels are left out of the zip.
SHIPPED_BY_BLENDER = ("numpy",)
#: What Blender 4.2 LTS to 5.0 ship of them: the wheels are resolved against it (a wheel that needs
#: numpy 2, such as ml_dtypes 0.7, would install and then fail to import inside Blender).
BLENDER_NUMPY = "numpy==1.26.4"
#: The bpy module the bundled wheels are imported beside before a zip is written.
BLENDER_BPY = "bpy==5.0.1"

MANIFEST = "blender_manifest.toml"


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise UserError(f"{path} not found: run build-extension from the repository root") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from exc


def runtime_requirements(root: Path) -> list[str]:
    """The engine's pinned runtime requirements (pyproject ``[project] dependencies``), minus numpy."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    deps = pyproject["project"]["dependencies"]
    return [d for d in deps if not d.split("=")[0].strip().lower().startswith(SHIPPED_BY_BLENDER)]


def _excluded(rel: str, is_dir: bool, patterns: list[str]) -> bool:
    """gitignore-style match as Blender's builder does: '/x' anchors at the root, 'x/' is a folder."""
    name = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pat = pattern.rstrip("/")
        if dir_only and not is_dir:
            continue
        if pat.startswith("/"):
            if fnmatch.fnmatchcase(rel, pat[1:]):
                return True
        elif fnmatch.fnmatchcase(name, pat) or fnmatch.fnmatchcase(rel, pat):
            return True
    return False


def iter_extension_files(root: Path, patterns: list[str]) -> Iterator[Path]:
    """Files of the extension under ``root`` (relative paths), honouring the exclude patterns."""
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(d for d in dirnames
                             if not _excluded((base / d).as_posix(), True, patterns))
        for f in sorted(filenames):
            rel = (base / f).as_posix()
            if not _excluded(rel, False, patterns) and not rel.startswith("wheels/"):
                yield Path(rel)


#: Environment markers of each platform's CPython 3.11. pip evaluates a wheel's dependency markers for the
#: machine it runs on (a Linux build would ask Windows' torch for Linux-only CUDA wheels), so
#: :func:`download_wheels` follows the dependencies itself, with the target's markers.
MARKER_ENVIRONMENTS: dict[str, dict[str, str]] = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "windows-x64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                    "os_name": "posix"},
}
PYTHON_MARKERS = {"python_version": "3.11", "python_full_version": "3.11.9", "implementation_name": "cpython",
                  "implementation_version": "3.11.9", "platform_python_implementation": "CPython",
                  "platform_release": "", "platform_version": ""}


def _download_one(requirement: str, platform: str, dest: Path) -> Path:
    """``pip download --no-deps`` one binary wheel of ``requirement`` for ``platform`` and CPython 3.11."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
           "--implementation", "cp", "--dest", str(dest)]
    for tag in PLATFORM_TAGS[platform]:
        cmd += ["--platform", tag]
    result = subprocess.run(cmd + [requirement], capture_output=True, text=True)
    saved = [Path(line.strip().rsplit(" ", 1)[1]).name for line in result.stdout.splitlines()
             if line.strip().startswith(("Saved ", "File was already downloaded "))]
    if result.returncode != 0 or not saved:
        raise UserError(f"pip could not download a wheel of {requirement} for {platform}:\n"
                        f"{result.stderr.strip()[-2000:]}")
    return dest / saved[0]


def _dependencies(wheel: Path, extras: set[str], environment: dict[str, str]) -> list:
    """The requirements of ``wheel`` (its METADATA) that apply in ``environment`` with ``extras``."""
    from email.parser import Parser

    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        fields = Parser().parsestr(archive.read(metadata).decode("utf-8"))
    needed = []
    for line in fields.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None or any(requirement.marker.evaluate(environment | {"extra": extra})
                                             for extra in {"", *extras}):
            needed.append(requirement)
    return needed


def download_wheels(requirements: list[str], platform: str, dest: Path) -> list[Path]:
    """Binary wheels of ``requirements`` and of everything they need on ``platform`` (CPython 3.11), in
    ``dest``: each downloaded alone (``pip download --no-deps``) and its dependencies followed with the
    target's environment markers (:data:`MARKER_ENVIRONMENTS`). Resolved with Blender's own numpy first
    (:data:`BLENDER_NUMPY`), whose wheel is then left out. A requirement that the version chosen
    earlier does not satisfy is an error naming both."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    if platform not in PLATFORM_TAGS:
        raise UserError(f"unknown platform {platform!r}; choose one of {sorted(PLATFORM_TAGS)}")
    dest.mkdir(parents=True, exist_ok=True)
    environment = PYTHON_MARKERS | MARKER_ENVIRONMENTS[platform]
    queue = [Requirement(r) for r in [BLENDER_NUMPY, *requirements]]
    chosen: dict[str, tuple[Path, object, set[str]]] = {}
    while queue:
        requirement = queue.pop(0)
        name = canonicalize_name(requirement.name)
        if name in chosen:
            wheel, version, extras = chosen[name]
            if not requirement.specifier.contains(version, prereleases=True):
                raise UserError(f"{platform}: {requirement} conflicts with {wheel.name}, chosen for an earlier "
                                "requirement; pin a version that fits both in pyproject.toml")
            if set(requirement.extras) - extras:
                extras |= set(requirement.extras)
                queue += _dependencies(wheel, extras, environment)
            continue
        extras = set(requirement.extras)
        wheel = _download_one(f"{requirement.name}{requirement.specifier}", platform, dest)
        chosen[name] = (wheel, parse_wheel_filename(wheel.name)[1], extras)
        queue += _dependencies(wheel, extras, environment)
    # Only what this resolution chose: ``dest`` may still hold wheels of an earlier, other resolution.
    return sorted(wheel for name, (wheel, _, _) in chosen.items() if name not in SHIPPED_BY_BLENDER)


HOST_PLATFORMS = {"linux": "linux-x64", "win32": "windows-x64", "darwin": "macos-arm64"}


def wheel_modules(wheel: Path) -> list[str]:
    """The top-level importable modules of a wheel (its ``top_level.txt``, else the packages and modules at
    the top of the archive)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        listed = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        if listed:
            modules = archive.read(listed[0]).decode().split()
        else:
            modules = {n.split("/")[0].removesuffix(".py") for n in names
                       if not n.split("/")[0].endswith((".dist-info", ".data", ".libs"))
                       and (n.endswith(".py") or "/" in n)}
    return sorted(m for m in modules if m.isidentifier() and not m.startswith("_"))


def check_wheels_import(wheels: list[Path], platform: str, blender: str | None = BLENDER_BPY) -> list[str]:
    """Install ``wheels`` into a clean venv holding only Blender's numpy (and ``blender``, the bpy module,
    when given) and import every top-level module of each wheel there, after bpy, as Blender's Python
    would. Returns the modules imported; :class:`UserError` naming the wheel that does not install or
    import. Only the host's own platform can be checked (other platforms: [])."""
    import tempfile

    if HOST_PLATFORMS.get(sys.platform) != platform:
        return []
    with tempfile.TemporaryDirectory(prefix="t2v-wheel-check-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        py = str(venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))
        base = [BLENDER_NUMPY] + ([blender] if blender else [])
        for args in (base, ["--no-deps", *map(str, wheels)]):
            result = subprocess.run([py, "-m", "pip", "install", "--quiet", *args], capture_output=True, text=True)
            if result.returncode != 0:
                raise UserError(f"the wheels do not install beside {' and '.join(base)}: "
                                f"{result.stderr.strip()[-1500:]}")
        first = "import bpy; " if blender else ""
        imported = []
        for wheel in wheels:
            for module in wheel_modules(wheel):
                result = subprocess.run([py, "-c", f"{first}import {module}"], capture_output=True, text=True)
                if result.returncode != 0:
                    last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
                    raise UserError(f"{wheel.name}: 'import {module}' fails in a clean Python with "
                                    f"{' and '.join(base)}: {last}")
                imported.append(module)
    return imported


def _manifest_with_wheels(text: str, wheels: list[str], platform: str) -> str:
    """Append ``platforms`` and ``wheels`` as top-level keys (before the first table)."""
    lines = text.splitlines()
    first_table = next((i for i, ln in enumerate(lines) if ln.startswith("[")), len(lines))
    extra = [f'platforms = ["{platform}"]', "wheels = ["] + [f'  "./wheels/{w}",' for w in wheels] + ["]", ""]
    return "\n".join(lines[:first_table] + extra + lines[first_table:]) + "\n"


def build_extension(root: Path, out_dir: Path, platform: str | None = None,
                    with_wheels: bool = False, requirements: list[str] | None = None) -> Path:
    """Build ``<id>-<version>[-<platform>].zip`` in ``out_dir`` and return its path (written atomically)."""
    root = Path(root).resolve()
    manifest = read_manifest(root)
    patterns = list(manifest.get("build", {}).get("paths_exclude_pattern", []))
    if with_wheels and platform is None:
        raise UserError("--with-wheels needs --platform (wheels are platform specific)")
    wheels: list[Path] = []
    if with_wheels:
        reqs = requirements if requirements is not None else runtime_requirements(root)
        wheels = download_wheels(reqs, platform, root / "wheels" / platform)
        check_wheels_import(wheels, platform)
    suffix = f"-{platform.replace('-', '_')}" if platform else ""
    out = Path(out_dir) / f"{manifest['id']}-{manifest['version']}{suffix}.zip"
    manifest_text = (root / MANIFEST).read_text()
    if with_wheels:
        manifest_text = _manifest_with_wheels(manifest_text, [w.name for w in wheels], platform)
    with atomic_file(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in iter_extension_files(root, patterns):
            if rel.as_posix() == MANIFEST:
                zf.writestr(MANIFEST, manifest_text)
            else:
                zf.write(root / rel, rel.as_posix())
        for w in wheels:
            zf.write(w, f"wheels/{w.name}")
    return out
