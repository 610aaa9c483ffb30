"""`t2v batch` on this machine: jobs per minute with 1 and 2 Ray workers, and Ray's cost per job.

N identical `t2v track` jobs on a small analytic shot (tests/tiny_shot.py, 320×240, 16 frames; each
job writes its own tracks) are run three ways, one after the other: as plain subprocesses one at a
time, and through `t2v batch`'s runner (engine/batch.run_batch) with 1 and with 2 Ray workers. Ray's
start and stop are measured on a batch of one trivial job (`t2v --version`) and taken out of the
rates. Prints the wall times, jobs per minute, the 2-worker/1-worker ratio and Ray's overhead per job
(the 1-worker batch against the plain subprocesses).
Run: ``.venv/bin/python -m bench.bench_batch [--jobs 8]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.tiny_shot import write_shot
from track2view.engine.batch import Job, run_batch

CACHE = Path("cache/bench_batch").resolve()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True)
    write_shot(CACHE, (320, 240), 16, 300)

    def jobs(tag: str) -> list[Job]:
        return [Job(f"{tag}{i}", ("track", str(CACHE / "footage"), "--out", str(CACHE / f"{tag}{i}.npz"),
                                  "--max-points", "1500")) for i in range(args.jobs)]

    def quiet(line: str) -> None:
        pass

    def plain() -> None:
        for job in jobs("plain"):
            subprocess.run([sys.executable, "-m", "track2view.engine", *job.argv], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    t_plain = timed(plain)
    t_ray = timed(lambda: run_batch([Job("noop", ("--version",))], CACHE / "noop", workers=1, report=quiet))
    t_one = timed(lambda: run_batch(jobs("one"), CACHE / "one", workers=1, report=quiet))
    t_two = timed(lambda: run_batch(jobs("two"), CACHE / "two", workers=2, report=quiet))
    rate = {name: 60 * args.jobs / (t - t_ray) for name, t in (("1 worker", t_one), ("2 workers", t_two))}
    print(f"{args.jobs} `t2v track` jobs (320x240, 16 frames) on this machine")
    print(f"plain subprocesses, one at a time: {t_plain:6.1f} s ({60 * args.jobs / t_plain:5.1f} jobs/min)")
    print(f"Ray start + stop (one trivial job): {t_ray:5.1f} s")
    for name, total in (("1 worker", t_one), ("2 workers", t_two)):
        print(f"t2v batch, {name:9s}: {total:6.1f} s ({rate[name]:5.1f} jobs/min without Ray's start)")
    print(f"2 workers / 1 worker: {rate['2 workers'] / rate['1 worker']:.2f}x")
    print(f"Ray's overhead per job (1 worker vs plain): {(t_one - t_ray - t_plain) / args.jobs:+.2f} s")


if __name__ == "__main__":
    main()
