"""Reading users' ``.npz`` archives: never unpickling, and every failure a :class:`UserError`
naming the file."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import UserError


def read_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` archive ``path``, by name; object arrays (which would need
    unpickling) are left out. ``what`` names the file's role in error messages ("tracks file")."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        arrays = {}
        with data:
            for key in data.files:
                try:
                    arrays[key] = data[key]
                except ValueError:  # an object array: skipped on purpose
                    continue
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path} is not a readable {what} ({str(exc)[:200]})") from None
    except MemoryError:
        raise UserError(f"{path} is not a readable {what}: an array header claims more memory than there "
                        f"is (a damaged or foreign file)") from None
    return arrays
