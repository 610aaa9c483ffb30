"""The job layer: one progress/cancel type, typed job settings, and the runners giving the same results."""

import threading

import pytest

from track2view.engine.errors import Cancelled, UserError
from track2view.engine.jobs import (
    JOB_MODULES,
    InProcess,
    JobRequest,
    Progress,
    SelftestParams,
    job_type,
    make_params,
    run_job,
)
from track2view.engine.worker import Subprocess


def test_progress_spans_share_the_range_and_prefix_their_messages():
    seen = []
    progress = Progress(lambda f, m: seen.append((round(f, 3), m)))
    progress(0.5, "reading")
    part = progress.span(0.5, 1.0, "depth: ")
    part.count(1, 4, "frame 1/4")
    part.span(0.5, 1.0, "half: ")(1.0, "end")
    assert seen == [(0.5, "reading"), (0.625, "depth: frame 1/4"), (1.0, "depth: half: end")]
    assert Progress.of(progress) is progress
    Progress.of(None)(0.3, "nobody listens")


def test_a_cancelled_progress_stops_the_job_at_its_next_report():
    progress = Progress()
    step = progress.span(0.2, 0.4)
    progress.cancel()
    assert step.cancelled
    with pytest.raises(Cancelled):
        step(0.5, "next frame")
    with pytest.raises(Cancelled):
        run_job("selftest", {"steps": 2}, progress)


def test_settings_are_typed_and_checked_by_name():
    params = make_params("selftest", {"steps": 2, "delay": 0, "out": None})
    assert params == SelftestParams(steps=2, delay=0.0)
    assert make_params("selftest", params) is params
    with pytest.raises(UserError, match="setting delay must be float, got 'slow'"):
        make_params("selftest", {"delay": "slow"})
    with pytest.raises(UserError, match="setting steps must be int, got True"):
        make_params("selftest", {"steps": True})
    with pytest.raises(UserError, match="unknown setting"):
        make_params("selftest", {"stpes": 2})
    with pytest.raises(UserError, match="missing setting.*input"):
        make_params("track", {"out": "t.npz"})
    with pytest.raises(UserError, match="unknown job 'nope'"):
        job_type("nope")


def test_every_listed_job_is_registered_by_its_module():
    for name in JOB_MODULES:
        if JOB_MODULES[name].startswith("bridge."):
            continue  # Blender's modules: they register in a Blender worker (the synth and demo tests run them)
        assert job_type(name).name == name


@pytest.mark.parametrize("runner", [InProcess(), Subprocess()], ids=["in-process", "subprocess"])
def test_runners_give_the_same_results_and_progress(runner, tmp_path):
    seen = []
    requests = [JobRequest("selftest", {"steps": 2, "out": str(tmp_path / f"out{i}")}, f"job{i}") for i in range(2)]
    results = list(runner.map(requests, lambda f, m: seen.append((round(f, 3), m))))
    assert [r["steps"] for r in results] == [2, 2]
    assert seen == [(0.25, "[1/2] job0: step 1/2"), (0.5, "[1/2] job0: step 2/2"),
                    (0.75, "[2/2] job1: step 1/2"), (1.0, "[2/2] job1: step 2/2")]
    assert sorted(p.name for p in (tmp_path / "out1").iterdir()) == ["0000.txt", "0001.txt"]
    with pytest.raises(UserError, match="asked to fail"):
        runner.run(JobRequest("selftest", {"fail": "user"}))


def test_cancelling_a_subprocess_job_from_another_thread_leaves_no_output(tmp_path):
    started = threading.Event()

    def report(fraction, message):
        started.set()

    progress = Progress(report)
    outcome = {}

    def work():
        try:
            Subprocess().run(JobRequest("selftest", {"steps": 200, "delay": 0.05, "out": str(tmp_path / "o")}),
                             progress)
        except Cancelled as exc:
            outcome["cancelled"] = str(exc)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(60)
    progress.cancel()
    thread.join(30)
    assert "cancelled" in outcome["cancelled"]
    assert list(tmp_path.iterdir()) == []


def test_ray_runs_jobs_at_once_with_the_same_results_and_errors(tmp_path):
    from track2view.engine.ray_runner import RayRunner

    requests = [JobRequest("selftest", {"steps": 2, "delay": 0.2, "out": str(tmp_path / f"out{i}")}, f"job{i}")
                for i in range(2)]
    seen = []
    with RayRunner(workers=2) as ray:
        results = list(ray.map(requests, lambda f, m: seen.append(m)))
        assert results == [InProcess().run(JobRequest("selftest", {"steps": 2}))] * 2
        assert sorted(seen) in (["[1/2] job0: done", "[2/2] job1: done"], ["[1/2] job1: done", "[2/2] job0: done"])
        assert all(sorted(p.name for p in (tmp_path / f"out{i}").iterdir()) == ["0000.txt", "0001.txt"]
                   for i in range(2))
        slow = JobRequest("selftest", {"steps": 100, "delay": 0.1, "out": str(tmp_path / "slow")}, "slow")
        with pytest.raises(UserError, match="asked to fail"):
            list(ray.map([slow, JobRequest("selftest", {"fail": "user"}, "bad")]))
    # The failure cancelled the slow job, whose partial folder is gone.
    assert not any(p.name.startswith(".slow") or p.name == "slow" for p in tmp_path.iterdir())


def test_worker_errors_keep_their_traceback_across_processes():
    import pickle

    from track2view.engine.worker import WorkerError

    with pytest.raises(WorkerError) as info:
        Subprocess().run(JobRequest("selftest", {"fail": "exception"}))
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and "Traceback" in again.details
