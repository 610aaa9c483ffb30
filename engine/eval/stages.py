"""Wall time and peak memory per stage of an evaluation run.

``with meter.stage("poses"): ...`` adds the block's wall time and CPU time (user + system, all
threads of this process; on a shared machine CPU time / cores is what the stage would take alone)
to the stage and raises the stage's
peak resident memory (RSS, MiB) to the highest value sampled while the block ran. RSS is read from
``/proc/self/statm`` every :data:`SAMPLE_SECONDS` by a daemon thread (Linux); elsewhere the
process's lifetime peak (``resource.getrusage``) is used, which only ever grows.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SAMPLE_SECONDS = 0.05
STATM = Path("/proc/self/statm")
MIB = 1024 * 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (seconds, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def current_rss_mib() -> float:
    """Resident memory of this process now (MiB); the lifetime peak where /proc is unavailable."""
    if STATM.is_file():
        pages = int(STATM.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


class StageMeter:
    """Accumulates per-stage ``seconds`` and ``cpu_seconds`` (sums), ``calls`` and ``peak_rss_mib`` (max)."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        peak = [current_rss_mib()]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(SAMPLE_SECONDS):
                peak[0] = max(peak[0], current_rss_mib())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start, cpu_start = time.perf_counter(), cpu_seconds()
        try:
            yield
        finally:
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            done.set()
            sampler.join()
            peak[0] = max(peak[0], current_rss_mib())
            entry = self.stages.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0,
                                                 "peak_rss_mib": 0.0})
            entry["seconds"] += seconds
            entry["cpu_seconds"] += cpu
            entry["calls"] += 1
            entry["peak_rss_mib"] = max(entry["peak_rss_mib"], peak[0])

    def add(self, stages: dict[str, dict[str, float]]) -> None:
        """Take in another meter's :attr:`stages` (a job's): times and calls add up, peaks take the larger."""
        for name, other in stages.items():
            entry = self.stages.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0,
                                                 "peak_rss_mib": 0.0})
            for key in ("seconds", "cpu_seconds", "calls"):
                entry[key] += other[key]
            entry["peak_rss_mib"] = max(entry["peak_rss_mib"], other["peak_rss_mib"])

    def summary(self) -> dict[str, dict[str, float]]:
        """JSON-able copy: per stage total ``seconds`` and ``cpu_seconds``, ``calls``, ``seconds_per_call``,
        ``peak_rss_mib``."""
        return {name: {"seconds": round(e["seconds"], 3), "cpu_seconds": round(e["cpu_seconds"], 3),
                       "calls": int(e["calls"]),
                       "seconds_per_call": round(e["seconds"] / max(e["calls"], 1), 3),
                       "peak_rss_mib": round(e["peak_rss_mib"], 1)}
                for name, e in self.stages.items()}
