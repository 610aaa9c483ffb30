"""Footage reading and writing (engine/io/video.py): formats, frame ranges, downscaling, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from track2view.engine.errors import UserError
from track2view.engine.io.video import _cv2, read_frames, write_frames, write_mp4


def gradient_frames(T=6, H=48, W=64) -> np.ndarray:
    """Smooth frames that survive lossy mp4 coding: a moving gradient, brightness = frame index."""
    y, x = np.mgrid[0:H, 0:W]
    frames = np.stack([np.stack([(x * 3 + 10 * t) % 256, (y * 4) % 256, np.full_like(x, 40 * t % 256)], -1)
                       for t in range(T)])
    return frames.astype(np.uint8)


def test_png_sequence_round_trip_with_range_and_downscale(tmp_path):
    frames = gradient_frames()
    folder = write_frames(frames, tmp_path / "seq", pattern="f{}.png", start=1)
    assert sorted(p.name for p in folder.iterdir()) == [f"f{i}.png" for i in range(1, 7)]
    footage = read_frames(folder)
    np.testing.assert_array_equal(footage.frames, frames)
    assert footage.size == (64, 48) and footage.fps == 24.0 and footage.start == 0
    part = read_frames(folder, frames=slice(2, 5), max_side=32)
    assert part.frames.shape == (3, 24, 32, 3) and part.size == (64, 48) and part.start == 2
    assert part.scale == 2.0
    assert abs(int(part.frames[0, 12, 16, 2]) - int(frames[2, 24, 32, 2])) <= 1


def test_natural_sort_and_16bit_and_exr(tmp_path):
    cv2 = _cv2()
    folder = tmp_path / "seq"
    folder.mkdir()
    for i in (1, 2, 10):  # "10" must sort after "2"
        cv2.imwrite(str(folder / f"frame{i}.png"), np.full((4, 5), i * 1000, np.uint16))
    footage = read_frames(folder)
    assert [int(f[0, 0, 0]) for f in footage.frames] == [1000 >> 8, 2000 >> 8, 10000 >> 8]
    exr = tmp_path / "exr"
    exr.mkdir()
    for i in range(2):
        cv2.imwrite(str(exr / f"{i}.exr"), np.full((4, 5, 3), [0.0, 0.5, 2.0], np.float32))
    footage = read_frames(exr)
    assert footage.frames.shape == (2, 4, 5, 3)
    np.testing.assert_array_equal(footage.frames[0, 0, 0], [255, 188, 0])  # RGB, sRGB-encoded, clipped


def test_mp4_round_trip(tmp_path):
    frames = gradient_frames(T=8)
    path = write_mp4(frames, tmp_path / "clip.mp4", fps=12.5)
    footage = read_frames(path, frames=slice(3, None))
    assert footage.frames.shape == (5, 48, 64, 3)
    assert footage.fps == pytest.approx(12.5, abs=0.01)
    assert np.abs(footage.frames.astype(int) - frames[3:]).mean() < 8
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
    with pytest.raises(UserError, match="clip.mp4: the frame range 8:12 is empty or past the end: the footage has 8"):
        read_frames(path, frames=slice(8, 12))


def test_bad_inputs_name_the_file(tmp_path):
    with pytest.raises(UserError, match="missing.mp4"):
        read_frames(tmp_path / "missing.mp4")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(UserError, match="corrupt.mp4"):
        read_frames(corrupt)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="empty"):
        read_frames(empty)
    mixed = tmp_path / "mixed"
    write_frames(gradient_frames(T=2), mixed)
    write_frames(gradient_frames(T=1, H=20), tmp_path / "other")
    (tmp_path / "other" / "0001.png").rename(mixed / "0003.png")
    with pytest.raises(UserError, match="0003.png.*same size"):
        read_frames(mixed)
    broken = tmp_path / "broken"
    write_frames(gradient_frames(T=2), broken)
    (broken / "0002.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="0002.png"):
        read_frames(broken)
    # A range past the end or reversed names the range and the frame count, not a corrupt file.
    for frames, text in ((slice(5, 9), "5:9"), (slice(2, 1), "2:1")):
        with pytest.raises(UserError, match=f"range {text} is empty or past the end: the footage has 3 frames"):
            read_frames(mixed, frames=frames)


@pytest.mark.parametrize("kind", ["sequence", "mp4"])
def test_open_frames_streams_through_a_window(tmp_path, kind):
    from track2view.engine.io.video import open_frames

    frames = gradient_frames(T=12)
    path = write_frames(frames, tmp_path / "seq") if kind == "sequence" else write_mp4(frames, tmp_path / "a.mp4", 24)
    whole = read_frames(path, frames=slice(2, 11)).frames
    video = open_frames(path, slice(2, 11), reach=3)
    window = video.frames
    assert video.num_frames == len(window) == 9 and video.start == 2 and window.shape == (9, 48, 64, 3)
    for i in range(9):
        np.testing.assert_array_equal(window[i], whole[i])
        assert len(window._held) <= 4                  # the frame asked for and 3 before it
    np.testing.assert_array_equal(window[7], whole[7])
    np.testing.assert_array_equal(window[1], whole[1])  # behind the window: decoded again from there
    np.testing.assert_array_equal(np.stack(list(window)), whole)
    with pytest.raises(UserError, match="longer than the footage"):
        open_frames(path, slice(2, 40))
    with pytest.raises(UserError, match="empty or past the end"):
        open_frames(path, slice(12, None))


def test_frame_numbers_come_from_the_file_names():
    from track2view.engine.io.video import frame_number

    assert frame_number("shot.1001.exr") == 1001 and frame_number("/a/b/0007.png") == 7
    assert frame_number("plate_v2_0042.jpg") == 42 and frame_number("still.png") is None


def test_a_numbered_sequence_with_missing_frames_is_noted(tmp_path):
    from track2view.engine.io.video import probe, write_frames

    frames = np.zeros((3, 16, 16, 3), np.uint8)
    write_frames(frames, tmp_path / "whole", "shot.{:04d}.png", start=1001)
    assert probe(tmp_path / "whole").notes == () and probe(tmp_path / "whole").first_number == 1001
    write_frames(frames, tmp_path / "gap", "shot.{:04d}.png", start=1001)
    (tmp_path / "gap" / "shot.1002.png").rename(tmp_path / "gap" / "shot.1005.png")
    (note,) = probe(tmp_path / "gap").notes
    assert "skip from frame 1001 to 1003" in note and "fill the gaps" in note
