"""`t2v batch`: t2v commands with dependencies on Ray, a manifest, per-job logs and resumable reruns."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from track2view.engine.batch import outputs_of, read_jobs
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import save_camera_json

from .conftest import REPO
from .tiny_shot import write_shot


def _batch(jobs: list[dict], path) -> None:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs))


def _run(jobs_file, out, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "track2view.engine", "batch", str(jobs_file), "--out", str(out),
                           "--workers", "2", *extra], capture_output=True, text=True, cwd=REPO, timeout=600)


def test_a_failing_job_does_not_stop_the_others_and_a_rerun_resumes(tmp_path):
    camera, _ = write_shot(tmp_path, (96, 64), 6, 300)
    t = str(tmp_path)
    jobs = [
        {"name": "track", "argv": ["track", f"{t}/footage", "--out", f"{t}/tracked.npz", "--max-points", "300"]},
        {"name": "orbit", "argv": ["camera", "--tracks", f"{t}/tracked.npz", "--orbit", "3", "--out", f"{t}/orbit.json"],
         "after": ["track"]},
        {"name": "preview", "argv": ["render", "--footage", f"{t}/footage", "--tracks", f"{t}/tracked.npz",
                                     "--camera", f"{t}/orbit.json", "--preview", "--out", f"{t}/render"],
         "after": ["orbit"]},
        {"name": "broken", "argv": ["camera", "--from", f"{t}/later.json", "--out", f"{t}/later.chan"]},
        {"name": "after-broken", "argv": ["camera", "--from", f"{t}/later.chan", "--size", "96x64",
                                          "--out", f"{t}/back.json"], "after": ["broken"]},
    ]
    _batch(jobs, tmp_path / "jobs.jsonl")
    first = _run(tmp_path / "jobs.jsonl", tmp_path / "batch", "--max-retries", "1")
    assert first.returncode == 1, first.stderr
    manifest = json.loads((tmp_path / "batch" / "batch.json").read_text())["jobs"]
    assert {name: job["status"] for name, job in manifest.items()} == {
        "track": "done", "orbit": "done", "preview": "done", "broken": "failed", "after-broken": "skipped"}
    assert manifest["broken"]["attempts"] == 2 and manifest["broken"]["exit_code"] == 1
    assert manifest["after-broken"]["reason"] == "after failed job 'broken'"
    assert manifest["preview"]["outputs"] == [f"{t}/render"] and (tmp_path / "render" / "render.mp4").is_file()
    assert "camera file not found" in (tmp_path / "batch" / "logs" / "broken.log").read_text()
    assert "wrote" in (tmp_path / "batch" / "logs" / "track.log").read_text()
    assert "2 of 5 jobs did not finish: broken, after-broken" in first.stderr
    assert "after-broken: skipped, after failed job 'broken'" in first.stderr

    save_camera_json(camera, tmp_path / "later.json")  # the missing input appears
    second = _run(tmp_path / "jobs.jsonl", tmp_path / "batch")
    assert second.returncode == 0, second.stderr
    for name in ("track", "orbit", "preview"):
        assert f"{name}: done in an earlier run, skipped" in second.stderr
    manifest = json.loads((tmp_path / "batch" / "batch.json").read_text())["jobs"]
    assert all(job["status"] == "done" for job in manifest.values())
    assert manifest["track"]["attempts"] == 1 and (tmp_path / "back.json").is_file()


@pytest.mark.parametrize("lines,message", [
    (['{"name": "a", "argv": ["track"]}', '{"name": "a", "argv": ["track"]}'], r"line 2: job 'a' is already defined on line 1"),
    (['{"name": "a", "argv": "track x"}'], r"line 1: 'argv' must be a non-empty list"),
    (['{"name": "a", "argv": ["track"], "after": ["b"]}'], r"line 1: job 'a' runs after unknown jobs \['b'\]"),
    (['{"name": "a", "argv": ["x"], "after": ["b"]}', '{"name": "b", "argv": ["x"], "after": ["a"]}'],
     r"wait for each other: a -> b -> a"),
    (['{"name": "a", "argv": ["x"]', ], r"line 1: not JSON"),
    (['{"name": "../a", "argv": ["x"]}'], r"line 1: 'name' must be a non-empty string without '/'"),
    ([""], r"no jobs"),
])
def test_bad_batch_files_name_the_line(tmp_path, lines, message):
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=message):
        read_jobs(path)


def test_outputs_are_the_output_flags():
    assert outputs_of(("render", "--footage", "a.mp4", "--out", "r1", "--output=r2")) == ["r1", "r2"]


def test_a_job_after_one_that_runs_again_runs_again(tmp_path):
    from track2view.engine.batch import MANIFEST, Batch, Job

    jobs = [Job("track", ("track", "a.mp4", "--out", "a.npz")), Job("render", ("render", "--out", "r"), ("track",)),
            Job("other", ("camera", "--out", "c.json"))]
    done = {"status": "done", "attempts": 1, "exit_code": 0}
    (tmp_path / MANIFEST).write_text(json.dumps({"jobs": {job.name: {**done, "argv": list(job.argv)} for job in jobs}}))
    assert Batch(jobs, tmp_path).reused == ["track", "render", "other"]
    changed = [Job("track", ("track", "a.mp4", "--out", "a.npz", "--max-points", "900")), *jobs[1:]]
    batch = Batch(changed, tmp_path)
    assert batch.reused == ["other"] and batch.ready() == ["track"]  # render waits for the new track
