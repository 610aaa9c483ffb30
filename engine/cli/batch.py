"""Run a batch of t2v commands with dependencies on Ray (this machine, or a cluster with --address).

JOBS.jsonl has one job per line: {"name": "...", "argv": ["track", "shot.mp4", "--out", "shot.npz"],
"after": ["other-name"]} ("after" optional). Jobs run as soon as the jobs they follow are done and
Ray has room (--cpus-per-job, --gpus-per-job); a failing job does not stop the others (the ones
after it are skipped, saying so) and the batch exits 1 at the end, listing them. Logs go to
DIR/logs/<name>.log and DIR/batch.json records every job; run the batch again into the same DIR and
the jobs done before are skipped, the others retried. Layout and rules: engine/batch.py.

Examples:
  t2v batch shots.jsonl --out batch/
  t2v batch shots.jsonl --out /shared/batch --address ray-head:6379 --gpus-per-job 1
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("jobs", type=Path, help="batch file, JSON lines")
    parser.add_argument("--out", type=Path, required=True, help="folder for batch.json and logs/")
    parser.add_argument("--address", help="a running Ray cluster to join (default: start Ray on this machine)")
    parser.add_argument("--max-retries", type=int, default=0, help="runs again a failing job this many times")
    parser.add_argument("--cpus-per-job", type=float, default=1, help="CPUs each job asks Ray for (default 1)")
    parser.add_argument("--gpus-per-job", type=float, default=0,
                        help="GPUs each job asks Ray for (default 0; 1 for renders with the model on a GPU)")
    parser.add_argument("--workers", type=int, help="this machine only: CPUs Ray may use (default: all)")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..batch import read_jobs, run_batch

    jobs = read_jobs(args.jobs)
    return run_batch(jobs, args.out, address=args.address, max_retries=args.max_retries,
                     cpus_per_job=args.cpus_per_job, gpus_per_job=args.gpus_per_job, workers=args.workers,
                     report=lambda line: print(line, file=sys.stderr, flush=True))
