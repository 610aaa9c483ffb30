"""The terminal progress bar behind the engine's ``progress(fraction, message)`` callbacks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

#: Resolution of the bar: fractions are shown in steps of 1/BAR_STEPS.
BAR_STEPS = 1000
#: Longest status message shown beside the bar, in characters.
MESSAGE_CHARS = 60


@contextlib.contextmanager
def progress_bar() -> Iterator[Callable[[float, str], None]]:
    """A tqdm bar; yields ``progress(fraction in [0, 1], message)`` that advances it (never backwards)."""
    from tqdm import tqdm

    with tqdm(total=BAR_STEPS, bar_format="{l_bar}{bar}| {elapsed} {desc}") as bar:
        def progress(fraction: float, message: str) -> None:
            bar.update(max(0, round(fraction * BAR_STEPS) - bar.n))
            bar.set_description_str(message[:MESSAGE_CHARS])

        yield progress
