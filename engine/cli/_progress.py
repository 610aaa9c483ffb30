"""How ``t2v`` shows the engine's ``progress(fraction, message)``: a bar on a terminal, lines in a log."""

from __future__ import annotations

import contextlib
import re
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

    On a terminal it advances a tqdm bar (never backwards); otherwise (stderr is a file or a pipe)
    it prints :func:`log_lines`.
    """
    if not sys.stderr.isatty():
        yield log_lines(sys.stderr)
        return
    from tqdm import tqdm

    with tqdm(total=BAR_STEPS, bar_format="{l_bar}{bar}| {elapsed} {desc}") as bar:
        def progress(fraction: float, message: str) -> None:
            bar.update(max(0, round(fraction * BAR_STEPS) - bar.n))
            bar.set_description_str(message[:MESSAGE_CHARS])

        yield progress


def log_lines(stream, every: float = LINE_EVERY_S) -> Callable[[float, str], None]:
    """``progress(fraction, message)`` printing plain lines ``[ 42%] message`` to ``stream``: when the
    step changes (the message without its counts and parentheses), and at most every ``every`` seconds
    within a step, so logs stay readable."""
    last = {"step": None, "time": 0.0}

    def progress(fraction: float, message: str) -> None:
        step = re.sub(r"\d+|\(.*?\)", "", message)
        now = time.monotonic()
        if step != last["step"] or now - last["time"] >= every or fraction >= 1.0:
            last["step"], last["time"] = step, now
            print(f"[{fraction:4.0%}] {message}", file=stream, flush=True)

    return progress
