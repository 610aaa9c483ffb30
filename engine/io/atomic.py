"""Atomic outputs: write to a temporary name beside the target, rename when complete.

Files the user owns are never overwritten silently: :func:`check_writable_target` refuses an
existing target unless ``overwrite`` is set. Outputs get the permissions a plain ``open``/``mkdir``
would give (0666/0777 minus the umask), not the owner-only ones of :mod:`tempfile`, so other users
(a render farm's, a compositor's) can read them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UserError

FILE_MODE, DIR_MODE = 0o666, 0o777
"""Permissions of a new output file / folder before the umask (as ``open`` and ``mkdir`` use)."""


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable_target(path: str | os.PathLike, overwrite: bool, flag: str = "--overwrite",
                          inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Return ``path`` as a Path; raise :class:`UserError` if it exists and ``overwrite`` is False, or
    if it is, contains or sits inside one of ``inputs`` (with or without ``overwrite``: replacing it
    would delete what the command reads)."""
    path = Path(path)
    target = path.resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if target == source or source.is_relative_to(target) or target.is_relative_to(source):
            raise UserError(f"the output {path} would replace or sit inside the input {given}: "
                            f"choose an output outside the inputs")
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another output or pass {flag} to replace it")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the folder {parent} ({exc.strerror}): choose another output") from None
    try:  # probe: os.access says yes to root even where creating a file fails (/proc, root-squashed NFS)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise UserError(f"cannot write into {parent} ({exc.strerror}): choose another output") from None
    return path


def _partial_prefix(path: Path, kind: str = "partial") -> str:
    """Name prefix of a temporary output beside ``path``: ``.<name>.<kind>.<pid>.`` (the writing process,
    so a later run can tell a killed run's leftovers from a running one's)."""
    return f".{path.name}.{kind}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_partials(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary outputs beside ``path`` that a killed run left (``kill -9``, a power cut):
    those whose writing process is gone, or that an earlier version named without one. Returns them."""
    path = Path(path)
    removed = []
    for kind in ("partial", "old"):
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.{kind}.*"):
            pid = leftover.name[len(f".{path.name}.{kind}."):].split(".", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed and the
    target is left as it was. ``suffix`` keeps an extension some writers need (e.g. ``.npz``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    fd, tmp = tempfile.mkstemp(prefix=_partial_prefix(path), suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, FILE_MODE & ~_umask())
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    An existing ``path`` is moved aside and deleted only after the new folder is in place, so
    a crash or cancel at any point leaves either the old folder or the new one, never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = Path(tempfile.mkdtemp(prefix=_partial_prefix(path), dir=path.parent))
    os.chmod(tmp, DIR_MODE & ~_umask())
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=_partial_prefix(path, "old"), dir=path.parent))
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
