"""Geometric warp: every source pixel moves through its dense depth into the target view.

Per target frame t (vectorised numpy/OpenCV, no per-pixel Python):

1. Unproject: each pixel of source frame t becomes a 3D point through its depth
   (:mod:`.dense_depth`) and the source camera of frame t; project it into the target camera of
   frame t (pixels x, y and depth z).
2. Mesh: neighbouring source pixels stay joined unless their step in the target is both long
   (> :data:`MAX_STRETCH` pixels) and much longer than the steps around it (a depth edge: what lies
   behind it is a disocclusion); surfaces seen from behind are culled. A pixel whose joined
   neighbours land more than :data:`SPLAT_REACH` apart is split into sub-samples along its local
   Jacobian, so a stretched or magnified surface stays closed.
3. Splat: samples are splatted bilinearly with a soft z-buffer (the nearest surface wins, equal
   depths blend: weight × ``exp(-(z / zref - 1) / SOFT_Z)``). A target camera equal to the source
   reproduces the footage pixel for pixel.
4. Nearest view: when another source frame s within the fill's reach sits much nearer the target
   camera than frame t (:func:`nearest_source`), frame s is splatted too, and wherever the two agree
   (the scene there did not change between t and s, :func:`_unchanged`), and where frame t shows
   nothing, frame s's colours are used: a depth error displaces a pixel in proportion to how far
   the camera moves, so the nearer view is placed better. Where they disagree (something moved)
   frame t stays: the view shows time t. On a static shot the camera of frame t + 8 thus
   reproduces footage frame t + 8.
5. Temporal fill: target pixels that neither shows (total weight < :data:`MIN_SPLAT_WEIGHT`)
   take what neighbouring source frames t ± k (k in :data:`FILL_OFFSETS`) show there, placed by
   the same geometry with their own depth and camera. Moving things (``dynamic`` share ≥ 0.5) are
   left out: at another time they are elsewhere. Nearer frames go first; a pixel filled once stays.
6. Holes: what no frame shows stays black in the image and True in the mask.

Coordinates: pixels, (0, 0) the centre of the top-left pixel; depths are camera z (metres),
OpenCV axes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import cv2
import numpy as np

from .dense_depth import DenseDepth, dense_depth
from .errors import UserError
from .geometry.camera import CameraTrack
from .geometry.sampling import bilinear_taps, sample_bilinear
from .io.tracks import Tracks
from .io.video import linear_to_srgb8
from .jobs import Progress
from .runtime import intra_op_threads

SOFT_Z = 0.03
"""Soft z-buffer temperature, relative to the nearest depth (3 % of the distance)."""

MIN_SPLAT_WEIGHT = 0.2
"""Total splat weight below which a target pixel is a hole."""

ZREF_MIN_WEIGHT = 0.25
"""Bilinear weight a tap needs to set its pixel's reference (nearest) depth in the soft z-buffer."""

MAX_STRETCH = 3.0
"""Neighbouring source pixels that land up to this far apart (target pixels) are always joined."""

EDGE_RATIO = 2.5
"""Farther apart, they are joined unless the step is this many times the median step around it."""

SPLAT_REACH = 1.5
"""Spacing (target pixels) up to which bilinear splats of neighbouring samples leave no gap."""

MAX_SUBSAMPLES = 6
"""Most sub-samples per side of a stretched pixel (a surface magnified up to 9× stays closed)."""

MIN_DEPTH = 1e-3
"""Nearest target depth (metres) a point may have to be drawn."""

FILL_OFFSETS = (3, -3, 12, -12)
"""Source frames (relative to the target frame) that fill what the frame itself does not show."""

FRAME_REACH = 2 * max(abs(k) for k in FILL_OFFSETS)
"""How far behind the newest source frame it has read the warp may still ask for one (it reads t + 12
for target frame t, which may use t - 12)."""

SPLAT_CHUNK = 1 << 18
"""Points splatted at a time (a chunk's temporaries take about 100 bytes a point)."""

WARP_THREADS = intra_op_threads()
"""Target frames warped at once by :func:`iter_warp`: the cores this process may use, up to 8 (each frame
holds its temporaries, ~0.1 GB at 1080p, about twice that with a nearest view)."""

NEAR_SHARE = 0.5
"""Another source frame replaces frame t as the warp's main view when its camera is nearer the target
than this share of frame t's distance."""

CHANGE_REACH = 0.005
"""How far two views of the same static scene may disagree in placement: a share of the target's diagonal."""

CHANGE_MARGIN = 0.05
"""Colour difference (a share of display white) two views of the same scene may have beyond their placement."""

DYNAMIC_SHARE = 0.5
"""Source pixels with at least this share of moving tracks around them are not used for the fill."""


def _splat_bilinear(x: np.ndarray, y: np.ndarray, values: np.ndarray, size: tuple[int, int],
                    depth: np.ndarray) -> np.ndarray:
    """Bilinear splat of points (x, y) (N,), -1 < x < W, -1 < y < H, carrying ``values`` (C, N).

    Returns per-pixel weighted sums (H, W, C) (splat ones for the total weight). The weights are
    soft z-buffer weights: each tap's bilinear weight times ``exp(-max(z / zref - 1, 0) / SOFT_Z)``,
    ``zref`` the nearest ``depth`` among the taps on that pixel with a bilinear weight ≥
    :data:`ZREF_MIN_WEIGHT`. The sums are taken over the points' bounding box only (a fill's few
    points cost little), padded by one pixel, so every tap is in bounds. Points go in chunks of
    :data:`SPLAT_CHUNK` (two passes: nearest depths, then sums), so the temporaries stay bounded for
    any image size (the taps, 48 bytes a point, are kept between passes).
    """
    W, H = size
    if len(x) == 0:
        return np.zeros((H, W, len(values)), np.float32)
    # The box's padded grid: its column 0 is target column x0 (≥ -1), and every tap lands inside it.
    x0, y0 = int(np.floor(x.min())), int(np.floor(y.min()))
    box_w, box_h = int(np.floor(x.max())) - x0, int(np.floor(y.max())) - y0
    n = (box_w + 2) * (box_h + 2)
    taps = [(part, *bilinear_taps(x[part] - (x0 + 1), y[part] - (y0 + 1), box_w)) for part in
            (slice(i, i + SPLAT_CHUNK) for i in range(0, len(x), SPLAT_CHUNK))]
    zref = np.full(n, np.inf, np.float32)
    for part, idx, bilinear in taps:
        strong = bilinear >= ZREF_MIN_WEIGHT
        np.minimum.at(zref, idx[strong], np.tile(depth[part].astype(np.float32), 4)[strong])
    sums = np.zeros((len(values), n), np.float64)
    for part, idx, bilinear in taps:
        z = np.tile(depth[part].astype(np.float32), 4)
        nearest = zref[idx]
        ratio = z / np.where(np.isfinite(nearest), nearest, z)
        weight = bilinear * np.exp(-np.maximum(ratio - 1.0, 0.0) / SOFT_Z)
        for c, v in enumerate(values):
            sums[c] += np.bincount(idx, weight * np.tile(v[part], 4), n)
    box = sums.T.astype(np.float32).reshape(box_h + 2, box_w + 2, len(values))
    out = np.zeros((H, W, len(values)), np.float32)  # allocated last: early, it slows the temporaries' allocation
    cols = slice(max(x0, 0), min(x0 + box_w + 2, W))
    rows = slice(max(y0, 0), min(y0 + box_h + 2, H))
    out[rows, cols] = box[rows.start - y0:rows.stop - y0, cols.start - x0:cols.stop - x0]
    return out


def project_pixels(depth: np.ndarray, K_src: np.ndarray, w2c_src: np.ndarray, K_tgt: np.ndarray,
                   w2c_tgt: np.ndarray) -> np.ndarray:
    """Where every source pixel lands: (3, H, W) float32 target x, y (pixels) and z (metres) of ``depth`` (H, W)."""
    H, W = depth.shape
    src_to_tgt = w2c_tgt.astype(np.float64) @ np.linalg.inv(w2c_src.astype(np.float64))
    # Pixel (u, v) at depth z lands at K_tgt (R z K_src^-1 (u, v, 1) + t): one 3x3 map of (u, v, 1) times z.
    A = (K_tgt.astype(np.float64) @ src_to_tgt[:3, :3] @ np.linalg.inv(K_src.astype(np.float64))).astype(np.float32)
    b = (K_tgt.astype(np.float64) @ src_to_tgt[:3, 3]).astype(np.float32)
    u = np.arange(W, dtype=np.float32)[None]
    v = np.arange(H, dtype=np.float32)[:, None]
    z = depth.astype(np.float32)
    hom = [(A[i, 0] * u + A[i, 1] * v + A[i, 2]) * z + b[i] for i in range(3)]
    cam_z = hom[2] / np.float32(K_tgt[2, 2])
    safe = np.where(np.abs(hom[2]) > 1e-12, hom[2], np.float32(1e-12))
    return np.stack([hom[0] / safe, hom[1] / safe, cam_z])


def _linked(step: np.ndarray) -> np.ndarray:
    """Which neighbouring source pixels stay joined, from the target-space length of their step (H', W').

    A step is cut where it is longer than :data:`MAX_STRETCH` pixels *and* :data:`EDGE_RATIO` times the
    median step around it: a depth edge stretches far more than its surroundings, while a surface
    the target camera magnifies stretches evenly and stays whole.
    """
    around = cv2.medianBlur(np.ascontiguousarray(np.minimum(step, 1e6), dtype=np.float32), 5)
    return (step <= MAX_STRETCH) | (step <= EDGE_RATIO * around)


def _jacobian(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel derivatives (3, H, W) of the landing map ``pos`` (x, y, z) along source x and y.

    Central differences over joined neighbours (:func:`_linked`), one-sided where only one neighbour
    is joined, zero where none is (the pixel sits alone at a cut).
    """
    derivs = []
    for axis in (2, 1):
        fwd = np.diff(pos, axis=axis)
        linked = _linked(np.hypot(fwd[0], fwd[1]))
        fwd *= linked
        total, count = np.zeros_like(pos), np.zeros(pos.shape[1:], np.float32)
        for part in (slice(None, -1), slice(1, None)):  # the step to the next pixel, then from the previous one
            at = (slice(None),) * axis + (part,)
            total[at] += fwd
            count[at[1:]] += linked
        derivs.append(total / np.maximum(count, 1))
    return derivs[0], derivs[1]


def _samples(pos: np.ndarray, valid: np.ndarray, target_size: tuple[int, int]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Splat samples of the landing map ``pos`` (3, H, W) over ``valid`` (H, W) source pixels.

    A pixel whose joined neighbours land s > :data:`SPLAT_REACH` pixels away is split into f × f
    sub-samples along its Jacobian, f = ceil(s / SPLAT_REACH) up to :data:`MAX_SUBSAMPLES`.
    Returns target positions/depths (3, M) and source positions (2, M) (pixels, between pixel
    centres for sub-samples), and how many of the samples, first, are whole pixels (for colour
    lookup without interpolation).
    """
    jx, jy = _jacobian(pos)
    stretch = np.maximum(np.hypot(jx[0], jx[1]), np.hypot(jy[0], jy[1]))
    # A surface seen from behind flips the image's orientation: cull it (a negative Jacobian determinant).
    valid = valid & (jx[0] * jy[1] - jx[1] * jy[0] >= 0)
    H, W = valid.shape
    flat = np.flatnonzero(valid)
    ys, xs = np.divmod(flat, W)
    factor = np.clip(np.ceil(stretch.ravel()[flat] / SPLAT_REACH), 1, MAX_SUBSAMPLES).astype(np.int64)
    one = factor == 1
    pos, jx, jy = pos.reshape(3, -1), jx.reshape(3, -1), jy.reshape(3, -1)
    whole = np.concatenate([np.take(pos, flat[one], axis=1), np.stack([xs[one], ys[one]]).astype(np.float32)])
    parts = [whole]
    for f in np.unique(factor[~one]):
        pick = flat[factor == f]
        at, dx, dy = np.take(pos, pick, axis=1), np.take(jx, pick, axis=1), np.take(jy, pick, axis=1)
        src = np.stack([pick % W, pick // W]).astype(np.float32)
        offsets = (np.arange(f, dtype=np.float32) + 0.5) / f - 0.5
        for dv in offsets:
            for du in offsets:
                parts.append(np.concatenate([at + du * dx + dv * dy, src + np.array([[du], [dv]], np.float32)]))
    samples = np.concatenate(parts, 1)
    W, H = target_size
    x, y, z = samples[:3]
    inside = (x > -1) & (x < W) & (y > -1) & (y < H) & (z > MIN_DEPTH)
    samples = samples[:, inside]
    return samples[:3], samples[3:], int(inside[:whole.shape[1]].sum())


def _colours(image: np.ndarray | None, src: np.ndarray, whole: int) -> np.ndarray:
    """(3, M) float32 colours of ``image`` at source positions ``src`` (2, M), the first ``whole`` of
    them at pixel centres; (0, M) without an image."""
    if image is None:
        return np.zeros((0, src.shape[1]), np.float32)
    out = np.empty((3, src.shape[1]), np.float32)
    flat = image.reshape(-1, 3)
    at = src[1, :whole].astype(np.int64) * image.shape[1] + src[0, :whole].astype(np.int64)
    out[:, :whole] = flat[at].T
    if whole < src.shape[1]:
        out[:, whole:] = sample_bilinear(image, src[0, whole:], src[1, whole:]).T
    return out


def splat_view(image: np.ndarray | None, depth: np.ndarray, K_src: np.ndarray, w2c_src: np.ndarray,
               K_tgt: np.ndarray, w2c_tgt: np.ndarray, target_size: tuple[int, int],
               keep: np.ndarray | None = None, wanted: np.ndarray | None = None) -> np.ndarray:
    """Splat one source view into the target: weighted sums (Ht, Wt, C + 1), the last channel the weight.

    ``image`` (H, W, 3) uint8 or None (geometry only: C = 0), ``depth`` (H, W) source camera z,
    ``keep`` (H, W) bool: the source pixels that take part (default all with a depth); ``wanted``
    (Ht, Wt) bool: only target pixels near these are needed (the sums elsewhere are incomplete).
    """
    known = np.isfinite(depth) & (depth > MIN_DEPTH)
    pos = project_pixels(np.where(known, depth, 1.0), K_src, w2c_src, K_tgt, w2c_tgt)
    valid = known & np.isfinite(pos).all(0)
    if keep is not None:
        valid &= keep
    if wanted is not None:
        near = cv2.dilate(wanted.astype(np.uint8), np.ones((7, 7), np.uint8))
        # Whether each source pixel lands near a wanted target pixel (positions beyond the frame clamp to its edge).
        valid &= cv2.remap(near, pos[0], pos[1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE) > 0
    # Only the rows and columns with pixels to draw (the fill's are few), and one pixel around them.
    rows, cols = np.flatnonzero(valid.any(1)), np.flatnonzero(valid.any(0))
    if len(rows) == 0:
        return np.zeros((target_size[1], target_size[0], 1 if image is None else 4), np.float32)
    r0, c0 = max(rows[0] - 1, 0), max(cols[0] - 1, 0)
    crop = np.s_[r0:rows[-1] + 2, c0:cols[-1] + 2]
    target, src, whole = _samples(pos[(slice(None), *crop)], valid[crop], target_size)
    src += np.array([[c0], [r0]], np.float32)
    values = np.concatenate([_colours(image, src, whole), np.ones((1, src.shape[1]), np.float32)])
    return _splat_bilinear(target[0], target[1], values, target_size, depth=target[2])


def nearest_source(t: int, frames: Sequence[int], tracks: Tracks, target: CameraTrack) -> int:
    """The source frame among ``frames`` (which include t) whose camera centre is nearest target
    frame t's: frame t itself unless another is nearer than :data:`NEAR_SHARE` of frame t's distance.

    A depth error moves a warped pixel in proportion to how far the camera moves (a turn moves it
    the same at any depth), so the nearest camera carries the least of it. The target camera equal
    to the source's (distance 0) always keeps frame t.
    """
    def centre(w2c: np.ndarray) -> np.ndarray:  # the camera's world position
        return -w2c[:3, :3].T.astype(np.float64) @ w2c[:3, 3]

    goal = centre(target.w2c[t])
    distance = {s: float(np.linalg.norm(centre(tracks.w2c[s]) - goal)) for s in frames}
    best = min(distance, key=distance.__getitem__)
    return best if distance[best] < NEAR_SHARE * distance[t] else t


def _unchanged(first: np.ndarray, second: np.ndarray, linear: bool) -> np.ndarray:
    """Where two splats (Ht, Wt, 4) (:func:`splat_view`) into one target show the same scene, up to a few
    pixels' misplacement; compared at half resolution, in display values (``linear``: scene-linear
    footage, encoded to sRGB first).

    Each one's colour must lie, on every channel, within the other's range over a square of
    ± :data:`CHANGE_REACH` of the diagonal, widened by :data:`CHANGE_MARGIN` of white; a pixel that either
    does not show agrees. Returns a weight (Ht, Wt) float32 in [0, 1]: 0 where they disagree
    (isolated pixels aside) and up to the reach around, then rising to 1 over twice the reach.
    """
    H, W = first.shape[:2]
    half = (max(1, W // 2), max(1, H // 2))
    small = [cv2.resize(sums, half, interpolation=cv2.INTER_AREA) for sums in (first, second)]
    unseen = (small[0][..., 3] < MIN_SPLAT_WEIGHT) | (small[1][..., 3] < MIN_SPLAT_WEIGHT)
    rgb = [sums[..., :3] / np.maximum(sums[..., 3:], 1e-12) for sums in small]
    if linear:
        rgb = [linear_to_srgb8(c).astype(np.float32) for c in rgb]
    reach = max(1, round(CHANGE_REACH * np.hypot(*half)))
    box = np.ones((2 * reach + 1,) * 2, np.uint8)
    margin = np.float32(CHANGE_MARGIN * 255)
    agree = np.ones(half[::-1], bool)
    for a, b in ((rgb[0], rgb[1]), (rgb[1], rgb[0])):
        agree &= ((a >= cv2.erode(b, box) - margin) & (a <= cv2.dilate(b, box) + margin)).all(-1)
    agree |= unseen
    changed = cv2.morphologyEx((~agree).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    changed = cv2.dilate(changed, np.ones((4 * reach + 1,) * 2, np.uint8))  # blurred by the reach: 0 up to it
    weight = cv2.blur(1.0 - changed.astype(np.float32), (2 * reach + 1,) * 2)
    return cv2.resize(weight, (W, H), interpolation=cv2.INTER_LINEAR)


def warp_frame(t: int, sources: dict[int, tuple[np.ndarray | None, np.ndarray, np.ndarray]], tracks: Tracks,
               target: CameraTrack, fill_offsets: tuple[int, ...] = FILL_OFFSETS
               ) -> tuple[np.ndarray | None, np.ndarray]:
    """Target frame t: source frame t splatted into ``target`` frame t, or where the scene is unchanged,
    the nearest source view (:func:`nearest_source`); its holes filled from frames t + k.

    ``sources`` maps source frame s to (image (H, W, 3) uint8 or None, depth (H, W), static (H, W) bool:
    the pixels the fill and the nearest view may use) for frame t and the frames within max |k| of it
    (with ``fill_offsets`` empty, frame t alone is used). Returns the image
    (None without images; float32 for float32 scene-linear footage, else uint8) and the hole mask.
    """
    reach = max(map(abs, fill_offsets), default=0)
    image, z, _ = sources[t]
    sums = splat_view(image, z, tracks.K[t], tracks.w2c[t], target.K[t], target.w2c[t], target.size)
    near = nearest_source(t, [s for s in sources if abs(s - t) <= reach], tracks, target)
    if near != t:
        near_image, near_z, near_static = sources[near]
        other = splat_view(near_image, near_z, tracks.K[near], tracks.w2c[near], target.K[t], target.w2c[t],
                           target.size, keep=near_static)
        own_weight, near_weight = sums[..., -1], other[..., -1]
        own_seen, near_seen = own_weight >= MIN_SPLAT_WEIGHT, near_weight >= MIN_SPLAT_WEIGHT
        # How far the near view stands for frame t: where it shows the same (and where frame t shows nothing).
        weight = near_seen.astype(np.float32)
        if image is not None:
            weight *= np.where(own_seen, _unchanged(other, sums, image.dtype != np.uint8), np.float32(1.0))
        # The two splats mixed by that weight, each normalised (a total weight of 1 where either is seen).
        sums = (sums * (own_seen * (1 - weight) / np.maximum(own_weight, 1e-12))[..., None]
                + other * (weight / np.maximum(near_weight, 1e-12))[..., None])
    fill_frames = [t + k for k in fill_offsets if t + k != near]
    hole = sums[..., -1] < MIN_SPLAT_WEIGHT
    for s in fill_frames:
        if not hole.any():
            break
        if s not in sources:
            continue
        image, z, static = sources[s]
        fill = splat_view(image, z, tracks.K[s], tracks.w2c[s], target.K[t], target.w2c[t], target.size,
                          keep=static, wanted=hole)
        sums[hole] = fill[hole]
        hole = sums[..., -1] < MIN_SPLAT_WEIGHT
    image = sources[t][0]
    if image is None:
        return None, hole
    rgb = sums[..., :3] / np.maximum(sums[..., 3:], 1e-12)
    rgb[hole] = 0
    if image.dtype != np.uint8:  # scene-linear footage keeps its values, above 1 included
        return rgb, hole
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), hole


def iter_warp(frames: Sequence[np.ndarray] | None, tracks: Tracks, target: CameraTrack, depth: DenseDepth,
              fill_offsets: tuple[int, ...] = FILL_OFFSETS, threads: int = WARP_THREADS,
              ) -> Iterator[tuple[np.ndarray | None, np.ndarray]]:
    """Warp source ``frames`` (T frames (H, W, 3) uint8; any sequence, e.g. a streaming
    :class:`~.io.video.FrameWindow`) into the ``target`` camera's view, one frame at a time.

    ``tracks`` (T frames, the footage's size) give the source camera, ``depth`` the source's dense
    depth; target frame t is source frame t's view from ``target`` frame t (:func:`warp_frame`).
    Yields, in order, per frame the image (Ht, Wt, 3) uint8 (None when ``frames`` is None: only the
    holes are computed) and the hole mask (Ht, Wt) bool. ``threads`` frames are warped at once (numpy
    and OpenCV release the GIL); the footage is read, and the depth upsampled, on the calling thread
    only, in order: frame t reads the source frames within max |k| of it, k in ``fill_offsets`` (a
    window of 2 × max |k| + 1 frames moving forward).
    """
    T = tracks.num_frames
    if frames is not None and len(frames) != T:
        raise UserError(f"the warp got {len(frames)} frames but {T} frames of tracks")
    if depth.num_frames != T or target.num_frames < T:
        raise UserError(f"the warp got {T} frames of tracks, {depth.num_frames} of depth and "
                        f"{target.num_frames} of target camera")
    reach = max(map(abs, fill_offsets), default=0)
    held: dict[int, tuple[np.ndarray | None, np.ndarray, np.ndarray]] = {}  # the window's maps at full size

    def sources(t: int) -> dict[int, tuple[np.ndarray | None, np.ndarray, np.ndarray]]:
        for old in [s for s in held if s < t - reach]:
            del held[old]  # a frame still being warped keeps its own references
        for s in range(t - reach, t + reach + 1):
            if 0 <= s < T and s not in held:
                image = None if frames is None else frames[s]
                z, moving = depth.frame(s, image)
                held[s] = image, z, moving < DYNAMIC_SHARE
        return {s: held[s] for s in range(t - reach, t + reach + 1) if s in held}

    pool = ThreadPoolExecutor(max(1, threads))
    try:
        queue: deque[Future] = deque()
        for t in range(T):
            queue.append(pool.submit(warp_frame, t, sources(t), tracks, target, fill_offsets))
            if len(queue) > threads:
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()
    finally:  # also when the caller stops early (cancelled): frames not started are dropped
        pool.shutdown(wait=True, cancel_futures=True)


def warp_video(frames: np.ndarray | None, tracks: Tracks, target: CameraTrack, depth: DenseDepth | None = None,
               fill_offsets: tuple[int, ...] = FILL_OFFSETS,
               progress: Progress | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """:func:`iter_warp` of all frames at once: frames (T, Ht, Wt, 3) uint8 (None without ``frames``)
    and hole masks (T, Ht, Wt) bool. Without ``depth`` it is spread from ``tracks`` along ``frames``
    (:func:`~.dense_depth.dense_depth`). ``progress`` hears of each frame.
    """
    if depth is None:
        if frames is None:
            raise UserError("the warp needs the footage or its dense depth")
        depth = dense_depth(frames, tracks)
    images, holes = [], []
    for image, hole in iter_warp(frames, tracks, target, depth, fill_offsets):
        images.append(image)
        holes.append(hole)
        if progress is not None:
            progress.count(len(holes), tracks.num_frames, f"frame {len(holes)}/{tracks.num_frames}")
    return (None if frames is None else np.stack(images)), np.stack(holes)
