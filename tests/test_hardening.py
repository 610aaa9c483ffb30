"""Bad values at the boundary, outputs that would replace inputs, killed runs and full disks.

Every bad cell must give one :class:`UserError` (on the CLI: exit 1 and a message naming the file),
leave the inputs unchanged and write nothing; the fuzz tests mutate a valid tracks file and CAM.json
a few hundred times and accept only a clean load or a clean error.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from track2view.engine.cli import main
from track2view.engine.errors import UserError
from track2view.engine.geometry.camera import load_camera_json
from track2view.engine.io.atomic import atomic_dir, atomic_file, remove_stale_partials
from track2view.engine.io.tracks import load_tracks
from track2view.engine.io.video import write_frames

from .tiny_shot import render, source_camera, write_shot

SIZE = (64, 48)
FRAMES = 4


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """A tiny static shot: footage folder, its tracks, and the source camera as CAM.json."""
    root = tmp_path_factory.mktemp("shot")
    write_shot(root, SIZE, FRAMES, 200)
    return root


def _camera_doc(shot) -> dict:
    return json.loads((shot / "CAM.json").read_text())


def _scaled(doc: dict, factor: float) -> dict:
    w2c = np.asarray(doc["w2c"])
    w2c[:, :3, :3] *= factor
    return {**doc, "w2c": w2c.tolist()}


def _mirrored(doc: dict) -> dict:
    w2c = np.asarray(doc["w2c"])
    w2c[:, 0, :3] *= -1
    return {**doc, "w2c": w2c.tolist()}


def _sheared(doc: dict) -> dict:
    w2c = np.asarray(doc["w2c"])
    w2c[:, 0, 1] += 0.3
    return {**doc, "w2c": w2c.tolist()}


def _focal(doc: dict, value: float) -> dict:
    K = np.asarray(doc["K"])
    K[:, 0, 0] = value
    return {**doc, "K": K.tolist()}


CAMERA_CELLS = {
    "size as a string": lambda d: {**d, "size": "384x216"},
    "size too small": lambda d: {**d, "size": [3, 8]},
    "size too large": lambda d: {**d, "size": [20000, 20000]},
    "size of one number": lambda d: {**d, "size": [384]},
    "size a 400-digit integer": lambda d: {**d, "size": [10 ** 400, 48]},
    "focal 0": lambda d: _focal(d, 0.0),
    "focal negative": lambda d: _focal(d, -50.0),
    "rotation scaled x2": lambda d: _scaled(d, 2.0),
    "rotation mirrored": _mirrored,
    "rotation sheared": _sheared,
    "all-zero w2c": lambda d: {**d, "w2c": np.zeros((FRAMES, 4, 4)).tolist()},
    "fps a word": lambda d: {**d, "fps": "fast"},
    "fps zero": lambda d: {**d, "fps": 0},
    "K ragged": lambda d: {**d, "K": [[1, 2], [3]]},
}


@pytest.mark.parametrize("cell", sorted(CAMERA_CELLS))
def test_bad_camera_values_are_refused_by_render_naming_the_file(shot, tmp_path, cell, capsys):
    bad = tmp_path / "CAM.json"
    bad.write_text(json.dumps(CAMERA_CELLS[cell](_camera_doc(shot))))
    with pytest.raises(UserError, match="CAM.json"):
        load_camera_json(bad)
    out = tmp_path / "render"
    code = main(["render", "--footage", str(shot / "footage"), "--tracks", str(shot / "tracks.npz"),
                 "--camera", str(bad), "--out", str(out), "--preview"])
    assert code == 1 and "CAM.json" in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["CAM.json"]


def test_deeply_nested_camera_json_is_a_clean_error(tmp_path):
    bad = tmp_path / "CAM.json"
    bad.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match="CAM.json"):
        load_camera_json(bad)


def _tracks_arrays(shot) -> dict:
    with np.load(shot / "tracks.npz") as data:
        return {k: data[k] for k in data.files}


TRACKS_CELLS = {
    "fps a word": lambda a: {**a, "fps": np.array("fast")},
    "size a scalar": lambda a: {**a, "size": np.array(64)},
    "size too large": lambda a: {**a, "size": np.array([20000, 20000])},
    "format an array": lambda a: {**a, "format": np.array([1, 2])},
    "all positions NaN": lambda a: {**a, "xyz": np.full_like(a["xyz"], np.nan)},
    "focal 0": lambda a: {**a, "K": a["K"] * np.array([0, 1, 1])[:, None]},
    "pose scaled": lambda a: {**a, "w2c": a["w2c"] * np.array([2, 2, 2, 1])[:, None]},
    "frame_start a float": lambda a: {**a, "frame_start": np.array(1.5)},
}


@pytest.mark.parametrize("cell", sorted(TRACKS_CELLS))
def test_bad_tracks_values_are_refused_naming_the_file(shot, tmp_path, cell):
    bad = tmp_path / "bad.npz"
    np.savez(bad, **TRACKS_CELLS[cell](_tracks_arrays(shot)))
    with pytest.raises(UserError, match="bad.npz"):
        load_tracks(bad)


def test_an_array_header_claiming_terabytes_is_a_clean_error(shot, tmp_path):
    arrays = _tracks_arrays(shot)
    bad = tmp_path / "huge.npz"
    np.savez(bad, **arrays)
    import zipfile

    with zipfile.ZipFile(bad) as z:
        members = {n: z.read(n) for n in z.namelist()}
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1, 3), np.float32))
    header["shape"] = (200_000, 100_000, 3)
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    members["xyz.npy"] = buf.getvalue() + b"\0" * 64
    with zipfile.ZipFile(bad, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(UserError, match="huge.npz"):
        load_tracks(bad)


def test_outputs_that_would_replace_an_input_are_refused_even_with_overwrite(shot, tmp_path, capsys):
    footage = tmp_path / "footage"
    write_frames(render(source_camera(SIZE, FRAMES))[0], footage, "{:04d}.png", start=0)
    before = sorted((p.name, p.stat().st_size) for p in footage.iterdir())
    code = main(["render", "--footage", str(footage), "--tracks", str(shot / "tracks.npz"), "--camera",
                 str(shot / "CAM.json"), "--out", str(footage), "--preview", "--overwrite"])
    assert code == 1 and "input" in capsys.readouterr().err
    code = main(["render", "--footage", str(footage), "--tracks", str(shot / "tracks.npz"), "--camera",
                 str(shot / "CAM.json"), "--out", str(tmp_path), "--preview", "--overwrite"])
    assert code == 1  # a folder that holds the footage
    code = main(["track", str(footage / "0001.png"), "--out", str(footage / "0001.png"), "--overwrite"])
    assert code == 1
    assert sorted((p.name, p.stat().st_size) for p in footage.iterdir()) == before


def test_a_killed_runs_partial_output_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "render"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".render.partial.{int(dead.stdout)}.abc123"
    (stale / "frames").mkdir(parents=True)
    legacy = tmp_path / ".render.partial.k2j3h4"  # named by an earlier version, without a process id
    legacy.mkdir()
    stale_file = tmp_path / f".tracks.npz.partial.{int(dead.stdout)}.x.npz"
    stale_file.write_bytes(b"half")
    running = tmp_path / f".render.partial.{os.getpid()}.live"
    running.mkdir()
    with atomic_dir(out) as tmp:
        (tmp / "done.txt").write_text("ok")
    with atomic_file(tmp_path / "tracks.npz") as tmp:
        tmp.write_bytes(b"whole")
    assert not stale.exists() and not legacy.exists() and not stale_file.exists()
    assert running.exists()  # a live process's output is left alone
    assert (out / "done.txt").read_text() == "ok" and (tmp_path / "tracks.npz").read_bytes() == b"whole"
    assert remove_stale_partials(out) == []


def test_sigterm_while_writing_leaves_no_partial_output(tmp_path):
    script = (
        "import sys, time\n"
        "from track2view.engine.errors import cancel_on_sigterm, Cancelled\n"
        "from track2view.engine.io.atomic import atomic_dir\n"
        "cancel_on_sigterm()\n"
        "try:\n"
        f"    with atomic_dir({str(tmp_path / 'out')!r}) as tmp:\n"
        "        (tmp / 'frame.png').write_bytes(b'x' * 1000)\n"
        "        print('writing', flush=True)\n"
        "        time.sleep(60)\n"
        "except Cancelled:\n"
        "    sys.exit(130)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_clear_message_and_nothing_partial(shot, tmp_path, monkeypatch, capsys):
    from track2view.engine import render

    def full_disk(image, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("track2view.engine.io.video.write_image", full_disk)
    code = main(["render", "--footage", str(shot / "footage"), "--tracks", str(shot / "tracks.npz"),
                 "--camera", str(shot / "CAM.json"), "--out", str(tmp_path / "render"), "--preview"])
    err = capsys.readouterr().err
    assert code == 1 and "no space left" in err and "0000.png" in err  # the footage's own first number
    assert list(tmp_path.iterdir()) == []
    assert render.FRAMES_DIR  # the module that wrote is the one patched


def _mutations(rng: np.random.Generator, value):
    """A few ways to break one value: other types, shapes, NaN/inf, huge and negative numbers."""
    array = np.asarray(value)
    choices = [
        lambda: np.array("text"), lambda: np.array(3.5), lambda: np.zeros((0,)), lambda: np.full(array.shape, np.nan),
        lambda: np.full(array.shape, np.inf), lambda: -np.abs(array) if array.dtype.kind in "fi" else array,
        lambda: array.reshape(-1) if array.size else array, lambda: np.array([1e300]),
        lambda: np.array(True), lambda: array.astype(np.float16) if array.dtype.kind == "f" else array.reshape(-1)[:1],
        lambda: rng.normal(size=array.shape) * 1e6 if array.size else array,
    ]
    return choices[int(rng.integers(len(choices)))]()


def _fuzz(rng: np.random.Generator, original: dict, keys: list[str], write, load, count: int = 300) -> dict:
    """Break 1–2 of ``keys`` of ``original`` ``count`` times, write each (``write(i, mutated)`` → its path) and
    ``load`` it: every case must load or give a :class:`UserError` naming the file. Returns the counts."""
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(count):
        mutated = dict(original)
        for key in rng.choice(keys, size=int(rng.integers(1, 3)), replace=False):
            mutated[key] = _mutations(rng, original.get(key, 1))
        path = write(i, mutated)
        try:
            load(path)
            outcomes["loaded"] += 1
        except UserError as exc:
            assert path.name in str(exc)
            outcomes["refused"] += 1
    return outcomes


def test_fuzzed_tracks_files_load_or_give_a_clean_error(shot, tmp_path):
    def write(i, arrays):
        np.savez(tmp_path / f"fuzz{i}.npz", **arrays)
        return tmp_path / f"fuzz{i}.npz"

    arrays = _tracks_arrays(shot)
    outcomes = _fuzz(np.random.default_rng(0), arrays, sorted(arrays), write, load_tracks)
    assert outcomes["refused"] > 200, outcomes


def test_fuzzed_camera_files_load_or_give_a_clean_error(shot, tmp_path):
    def write(i, doc):
        path = tmp_path / f"fuzz{i}.json"
        path.write_text(json.dumps({k: np.asarray(v).tolist() for k, v in doc.items()}, allow_nan=True))
        return path

    keys = ["K", "w2c", "size", "fps", "format"]
    outcomes = _fuzz(np.random.default_rng(1), _camera_doc(shot), keys, write, load_camera_json)
    assert outcomes["refused"] > 200, outcomes


def test_partly_decodable_and_variable_rate_movies_are_reported(tmp_path):
    import cv2

    from track2view.engine.io import video

    frames = np.random.default_rng(0).integers(0, 255, (30, 64, 64, 3), dtype=np.uint8)
    writer = cv2.VideoWriter(str(tmp_path / "whole.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 24.0, (64, 64))
    for f in frames:
        writer.write(f)
    writer.release()
    data = (tmp_path / "whole.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[:len(data) // 2])
    assert video.read_frames(tmp_path / "whole.avi").notes == ()
    cut = video.read_frames(tmp_path / "cut.avi")
    assert 0 < cut.num_frames < 30 and len(cut.notes) == 1
    assert f"only {cut.num_frames} of the 30 frames" in cut.notes[0] and "cut.avi" in cut.notes[0]
    steady = [i * 1000 / 30 for i in range(10)]
    assert video._movie_notes(tmp_path / "a.mp4", None, 10, 10, 0, steady, 30.0) == ()
    jittery = [0, 33, 66, 83, 100, 133, 183, 200, 233, 266]  # a phone dropping to 60 and 20 fps
    (note,) = video._movie_notes(tmp_path / "a.mp4", None, 10, 10, 0, jittery, 30.0)
    assert "variable frame rate" in note and "17.0–50.0 ms" in note
