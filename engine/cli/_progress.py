"""How ``t2v`` shows the engine's ``progress(fraction, message)``: a bar on a terminal, lines in a log."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

#: Resolution of the bar: fractions are shown in steps of 1/BAR_STEPS.
BAR_STEPS = 1000
#: Longest status message shown beside the bar, in characters.
MESSAGE_CHARS = 60
#: Without a terminal (a farm's or t2v batch's log): seconds between progress lines, unless the step changes.
LINE_EVERY_S = 10.0


@contextlib.contextmanager
def progress_bar() -> Iterator[Callable[[float, str], None]]:
    """Yields ``progress(fraction in [0, 1], message)``.

    On a terminal it advances a tqdm bar (never backwards). Otherwise (stderr is a file or a pipe) it
    prints a plain line ``[ 42%] message`` when the message's step changes (its text before the last
    ':' or digits), and at most every :data:`LINE_EVERY_S` seconds in between, so logs stay readable.
    """
    if not sys.stderr.isatty():
        yield _log_lines(sys.stderr)
        return
    from tqdm import tqdm

    with tqdm(total=BAR_STEPS, bar_format="{l_bar}{bar}| {elapsed} {desc}") as bar:
        def progress(fraction: float, message: str) -> None:
            bar.update(max(0, round(fraction * BAR_STEPS) - bar.n))
            bar.set_description_str(message[:MESSAGE_CHARS])

        yield progress


def _log_lines(stream) -> Callable[[float, str], None]:
    last = {"step": None, "time": 0.0}

    def progress(fraction: float, message: str) -> None:
        step = message.rstrip("0123456789/ ").rsplit(":", 1)[0]
        now = time.monotonic()
        if step != last["step"] or now - last["time"] >= LINE_EVERY_S or fraction >= 1.0:
            last["step"], last["time"] = step, now
            print(f"[{fraction:4.0%}] {message}", file=stream, flush=True)

    return progress
