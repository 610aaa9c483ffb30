"""Runs of flagged frames as inclusive frame ranges, for messages to the artist ("frames 1010-1013, 1020")."""

from __future__ import annotations

import numpy as np


def frame_ranges(flags: np.ndarray | list[bool], frame_start: int = 0) -> list[tuple[int, int]]:
    """Inclusive (first, last) ranges of the runs of true ``flags`` (T,); frame i is numbered ``frame_start + i``.

    Example: ``frame_ranges([False, True, True, False, True], 10) == [(11, 12), (14, 14)]``.
    """
    flags = np.asarray(flags, bool)
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0] - 1
    return [(frame_start + int(a), frame_start + int(b)) for a, b in zip(starts, ends, strict=True)]


def format_frame_ranges(ranges: list[tuple[int, int]]) -> str:
    """``[(3, 5), (9, 9)]`` → ``"3-5, 9"`` (inclusive ranges); ``""`` for no ranges."""
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)
