"""Errors the user can act on.

Raise :class:`UserError` for bad input (a file, a setting, a value) with a message that names
it and says what to do. The CLI prints it as one line and exits non-zero; Blender operators
report it in the UI. Anything else is a bug and keeps its traceback.
"""

import errno
import signal


class UserError(Exception):
    """Bad input or a bad setting; the message names the file/setting and the fix."""


class Cancelled(Exception):
    """The user cancelled long work; partial outputs have been removed."""


def cancel_on_sigterm() -> None:
    """Make SIGTERM (a farm's or Blender's stop) raise :class:`Cancelled` in the main thread, as Ctrl-C
    does, so the atomic writers remove their partial outputs before the process exits."""

    def _raise(signum, frame):
        raise Cancelled(f"terminated by signal {signum}")

    signal.signal(signal.SIGTERM, _raise)


def disk_error_message(exc: OSError) -> str | None:
    """A one-line message for an OS error while writing that the user can act on (a full disk, a quota,
    a read-only file system), naming the file; None for other errors."""
    where = f" while writing {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device{where}: free some space or choose another output; nothing partial was kept"
    if exc.errno == errno.EROFS:
        return f"the file system is read-only{where}: choose another output"
    return None


class MissingPackage(UserError):
    """A tool needs a package that the add-on's runtime does not bundle (see :func:`require_tool`)."""


def require_tool(module: str, purpose: str):
    """Import ``module`` for ``purpose`` (e.g. "the ONNX export") or raise :class:`MissingPackage`.

    The engine's tools beyond rendering — the ONNX export (onnx), LoRA training on a Wan backbone
    (peft), curation and evaluation against ground truth (scipy, pycolmap), their plots (matplotlib) and
    batches (ray) — are the ``tools`` extra: ``make`` and ``pip install 'track2view[tools]'`` install
    them; the extension's platform zip leaves them out.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingPackage(f"{purpose} needs the Python package '{module.split('.')[0]}', which is not "
                             f"installed here; install the engine's tools: pip install 'track2view[tools]'"
                             ) from exc
