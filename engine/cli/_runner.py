"""The ``--ray`` option of the commands that run many jobs (synth, curate): where their jobs run."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

LOCAL = "local"


def add_ray_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--ray", nargs="?", const=LOCAL, metavar="ADDRESS",
                        help=f"run the {what} at once as Ray tasks: on this machine (--ray), or on the cluster at "
                             "ADDRESS (e.g. ray://head:10001); default: one after the other, here")
    parser.add_argument("--cpus-per-job", type=float, default=1.0,
                        help="with --ray: CPUs each job asks for (default 1)")


@contextlib.contextmanager
def runner_from(args: argparse.Namespace) -> Iterator:
    """The runner ``args`` ask for: Ray (started here, stopped after) or the in-process one."""
    from ..jobs import InProcess

    if args.ray is None:
        yield InProcess()
        return
    from ..ray_runner import RayRunner

    with RayRunner(None if args.ray == LOCAL else args.ray, cpus_per_job=args.cpus_per_job) as runner:
        yield runner
