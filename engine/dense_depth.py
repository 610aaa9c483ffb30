"""Dense per-pixel depth of every source frame, spread from the shot's 3D tracks along the image's edges.

Every source pixel needs a 3D point for the warp (``engine/warp.py``) to move it into a target view.
The tracks give sparse ones: at frame t each visible track has a pixel ``uv`` and a camera depth z
(its world position seen by the source camera of frame t). They are spread over the image with a
*bilateral grid* in (x, y, intensity): a pixel takes the depths of nearby tracks whose image
intensity is close to its own, so a depth edge follows the image edge between a dark foreground and
a light background instead of a ramp between the tracks. Where no track of similar intensity is
near, a pull-push fill of all tracks (normalised convolution over an image pyramid) takes over, so
every pixel gets a depth. Interpolation runs on inverse depth (linear in the image for planes).
A track whose depth no neighbouring track backs up (a failed triangulation) is left out first
(:func:`unsupported_depths`): spread, it would be a blob of wrong depth that a camera move smears
across the frame.

Where the camera moves, static pixels also get two-view stereo against the frame
:data:`STEREO_OFFSET` frames away (:func:`stereo_samples`: optical flow triangulated with the tracks'
cameras); the trustworthy samples that agree with the tracks join them in the same spread. The
user's depth maps (``--depth``) win wherever they are valid.

The maps are computed at a reduced working resolution (longest side :data:`WORK_MAX_SIDE`) and
upsampled to the footage's size along its edges (:func:`guided_upsample`; bilinearly without the
footage, :func:`full_resolution`). Static and moving points are treated alike (a moving track's
position is its position at frame t); ``dynamic`` is the same spread of the tracks' ``dynamic`` flag
(0..1), which the warp uses to keep moving things out of the temporal fill. :func:`dense_depth_for`
reads the cache that ``t2v track`` writes beside the tracks (:func:`depth_path`).

Units: depth is camera-space z in the tracks' world units (metres), OpenCV axes; pixels as in the
tracks file ((0, 0) the centre of the top-left pixel).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError
from .geometry.sampling import bilinear_taps, sample_bilinear
from .io.atomic import atomic_file
from .io.npz import read_npz
from .io.tracks import Tracks
from .io.video import linear_to_srgb8
from .jobs import Progress

WORK_MAX_SIDE = 320
"""Longest side (pixels) of the working resolution of the depth maps."""

INTENSITY_BINS = 10
"""Intensity bins of the bilateral grid (image intensity in [0, 1])."""

SPATIAL_SIGMA = 1.2
"""Spatial Gaussian of the bilateral grid, in units of the mean track spacing."""

FALLBACK_WEIGHT = 0.02
"""Weight of the pull-push fill against the bilateral estimate (relative to one nearby track)."""

MIN_DEPTH = 1e-3
"""Nearest camera depth (metres) a track may have to be used."""

STEREO_OFFSET = 8
"""Frames between a frame and the neighbour its stereo depth is measured against."""

STEREO_MAX_ERROR = 1.0
"""Largest forward-backward flow and epipolar error (working pixels) of a stereo depth sample."""

MIN_PARALLAX = 2.0
"""Smallest parallax (working pixels) for a stereo depth sample."""

FULL_PARALLAX = 8.0
"""Parallax (working pixels) from which a stereo sample counts fully against the tracks."""

STEREO_MAX_RATIO = 1.5
"""A stereo sample more than this factor off the depth spread from the tracks is taken for an outlier."""

STEREO_WEIGHT = 0.25
"""Weight of one stereo pixel against one track in the spread (there are far more of them)."""

SUPPORT_RATIO = 1.25
"""Tracks whose depths differ by less than this factor (one bin of the support grid) back each other up."""

SUPPORT_RADIUS = 2.0
"""Radius (in mean track spacings) of the image neighbourhood in which a track's depth needs support."""

SUPPORT_WIDENING = 2
"""Widest support neighbourhood, in radii: where tracks are too sparse to judge a depth it doubles up to this."""

MIN_SUPPORT = 2
"""Neighbouring tracks of about the same depth a track needs to be used (when it has enough neighbours to judge)."""

UPSAMPLE_RANGE_SIGMA = 0.08
"""Brightness difference (of 1) over which a map pixel's depth stops counting when upsampling."""

DEPTH_SUFFIX = ".depth.npz"
"""Suffix of the dense-depth cache beside a tracks file (``shot.npz`` → ``shot.depth.npz``)."""

DEPTH_FORMAT = 1


@dataclasses.dataclass
class DenseDepth:
    """Depth maps of T source frames at the working resolution.

    ``depth`` (T, h, w) float32 camera z (metres); ``dynamic`` (T, h, w) float32 in [0, 1], the
    share of moving tracks around each pixel; ``size`` (W, H) the footage size they belong to;
    ``frame_start`` the footage frame of map 0 and ``digests`` (T,) the fingerprints of the tracks'
    frames they were made from (:func:`frame_digests`), so a cache is never used for other tracks;
    ``sources`` the share of pixels whose depth came from each source ("user" maps, "stereo",
    "tracks"), when it was computed.
    """

    depth: np.ndarray
    dynamic: np.ndarray
    size: tuple[int, int]
    frame_start: int = 0
    digests: np.ndarray | None = None
    sources: dict[str, float] = dataclasses.field(default_factory=dict)

    def subset(self, frames: slice) -> DenseDepth:
        """The maps of ``frames`` (a slice of this object's frames)."""
        first = range(self.num_frames)[frames].start if self.num_frames else 0
        return DenseDepth(self.depth[frames], self.dynamic[frames], self.size, self.frame_start + first,
                          None if self.digests is None else self.digests[frames])

    @property
    def num_frames(self) -> int:
        return len(self.depth)

    def frame(self, t: int, image: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Depth (H, W) and dynamic share (H, W) of frame ``t`` at the footage's size.

        With the frame's ``image`` (H, W, 3) uint8 the depth is upsampled along its edges
        (:func:`guided_upsample`), else bilinearly.
        """
        depth = (full_resolution(self.depth[t], self.size) if image is None
                 else guided_upsample(self.depth[t], image))
        return depth, full_resolution(self.dynamic[t], self.size)


def work_size(size: tuple[int, int]) -> tuple[int, int]:
    """Working resolution (w, h) for footage of ``size`` (W, H): longest side ≤ :data:`WORK_MAX_SIDE`."""
    W, H = size
    scale = min(1.0, WORK_MAX_SIDE / max(W, H))
    return max(2, round(W * scale)), max(2, round(H * scale))


def full_resolution(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of a working-resolution map (h, w) to ``size`` (W, H), pixel centres aligned."""
    if image.shape[::-1] == tuple(size):
        return image.astype(np.float32)
    return cv2.resize(image.astype(np.float32), tuple(size), interpolation=cv2.INTER_LINEAR)


def guided_upsample(depth: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A working-resolution depth map (h, w) at the size of ``image`` (H, W, 3) uint8 (or float32
    scene-linear), following its edges.

    Joint bilateral upsampling: each pixel blends the inverse depths of its 4 nearest map pixels by
    their bilinear weights times the similarity of their brightness to its own (Gaussian,
    σ = :data:`UPSAMPLE_RANGE_SIGMA`), so a depth edge lands on the image edge instead of spreading
    over a ramp (bilinear upsampling by 4 makes a 4-pixel ramp that the warp would stretch).
    Depth 0 (unknown) stays 0.
    """
    H, W = image.shape[:2]
    h, w = depth.shape
    if (h, w) == (H, W):
        return depth.astype(np.float32)
    if image.dtype != np.uint8:  # scene-linear footage: the edges as they are seen
        image = linear_to_srgb8(image)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / np.float32(255)
    known = depth > 0
    # Per map pixel: inverse depth (0 where unknown), its brightness, and whether it is known.
    table = np.stack([np.where(known, 1.0 / np.maximum(depth, MIN_DEPTH), 0.0),
                      cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA), known], -1).astype(np.float32)
    x = np.clip((np.arange(W, dtype=np.float32) + 0.5) * (w / W) - 0.5, 0, w - 1)
    y = np.clip((np.arange(H, dtype=np.float32) + 0.5) * (h / H) - 0.5, 0, h - 1)
    x0 = np.minimum(x.astype(np.int64), max(w - 2, 0))
    y0 = np.minimum(y.astype(np.int64), max(h - 2, 0))
    fx, fy = (x - x0)[None], (y - y0)[:, None]
    scale = np.float32(-0.5 / UPSAMPLE_RANGE_SIGMA ** 2)
    total = np.zeros((H, W), np.float32)
    weight = np.zeros((H, W), np.float32)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        map_x = np.broadcast_to(np.minimum(x0 + dx, w - 1).astype(np.float32)[None], (H, W))
        map_y = np.broadcast_to(np.minimum(y0 + dy, h - 1).astype(np.float32)[:, None], (H, W))
        near = cv2.remap(table, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_NEAREST)
        bilinear = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        wt = bilinear * (np.exp(np.square(gray - near[..., 1]) * scale) + np.float32(1e-6)) * near[..., 2]
        total += wt * near[..., 0]
        weight += wt
    return np.where(weight > 0, weight / np.maximum(total, 1e-12), 0.0).astype(np.float32)


def _splat(x: np.ndarray, y: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear splat of points (x, y), clamped into the grid, carrying ``values`` (C, N) onto a grid
    ``shape`` = (h, w); (C, h, w)."""
    h, w = shape
    idx, wts = bilinear_taps(np.clip(x, 0, w - 1), np.clip(y, 0, h - 1), w)
    n = (w + 2) * (h + 2)
    sums = np.stack([np.bincount(idx, wts * np.tile(v, 4), n) for v in values])
    return sums.reshape(-1, h + 2, w + 2)[:, 1:-1, 1:-1]


def pull_push(sums: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Fill ``sums / weight`` (C, h, w) / (h, w) everywhere by normalised convolution over a pyramid.

    Where ``weight`` ≥ 1 the value is kept; elsewhere it is blended with the next coarser level.
    """
    if min(weight.shape) <= 2 or weight.sum() <= 0:
        total = max(float(weight.sum()), 1e-12)
        return np.broadcast_to((sums.sum((1, 2)) / total)[:, None, None], sums.shape).astype(np.float32)
    h, w = weight.shape
    ph, pw = h + h % 2, w + w % 2
    pad = ((0, ph - h), (0, pw - w))
    coarse_w = np.pad(weight, pad).reshape(ph // 2, 2, pw // 2, 2).sum((1, 3))
    coarse_s = np.pad(sums, ((0, 0), *pad)).reshape(len(sums), ph // 2, 2, pw // 2, 2).sum((2, 4))
    coarse = pull_push(coarse_s, coarse_w)
    up = np.stack([cv2.resize(c, (pw, ph), interpolation=cv2.INTER_LINEAR)[:h, :w] for c in coarse])
    own = np.minimum(weight, 1.0)
    return (sums / np.maximum(weight, 1e-12) * own + up * (1 - own)).astype(np.float32)


def spread_tracks(x: np.ndarray, y: np.ndarray, values: np.ndarray, gray: np.ndarray,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """Spread sparse ``values`` (C, N) at pixels (x, y) (N,) over the image ``gray`` (h, w) in [0, 1].

    A bilateral grid in (x, y, intensity): samples take the image intensity at their pixel, are
    splatted into :data:`INTENSITY_BINS` bins, blurred in space (σ = :data:`SPATIAL_SIGMA` × the mean
    sample spacing) and across neighbouring bins, and read back at each pixel's own intensity.
    A pull-push fill of all samples takes over where the grid is empty. ``weight`` (N,) in (0, 1]
    (default 1) counts a sample as that share of one. Returns (C, h, w) float32.
    """
    h, w = gray.shape
    ones = (np.ones(len(x)) if weight is None else weight)[None]
    spacing = np.sqrt(h * w / max(float(ones.sum()), 1.0))
    base = _splat(x, y, np.concatenate([values * ones, ones]), (h, w))
    fallback = pull_push(base[:-1], base[-1])

    b = np.clip(sample_bilinear(gray, x, y), 0, 1) * (INTENSITY_BINS - 1)
    b0 = np.minimum(np.floor(b).astype(np.int64), INTENSITY_BINS - 2)
    fb = b - b0
    C = len(values)
    grid = np.zeros((INTENSITY_BINS, C + 1, h, w), np.float64)
    carried = np.concatenate([values * ones, ones])
    for j in range(INTENSITY_BINS):
        share = np.where(b0 == j, 1 - fb, 0.0) + np.where(b0 + 1 == j, fb, 0.0)
        keep = share > 0
        if keep.any():
            grid[j] = _splat(x[keep], y[keep], carried[:, keep] * share[keep], (h, w))
    sigma = SPATIAL_SIGMA * spacing
    grid = np.stack([[cv2.GaussianBlur(c, (0, 0), sigma, borderType=cv2.BORDER_REFLECT) for c in bin_]
                     for bin_ in grid])
    grid[1:-1] = 0.25 * grid[:-2] + 0.5 * grid[1:-1] + 0.25 * grid[2:]

    p = np.clip(gray, 0, 1) * (INTENSITY_BINS - 1)
    p0 = np.minimum(np.floor(p).astype(np.int64), INTENSITY_BINS - 2)
    fp = (p - p0)[None]
    rows, cols = np.indices((h, w))
    sliced = grid[p0, :, rows, cols].transpose(2, 0, 1) * (1 - fp) + grid[p0 + 1, :, rows, cols].transpose(2, 0, 1) * fp
    # One track at the centre of the spatial Gaussian contributes 1 / (2π σ²) to the weight.
    prior = FALLBACK_WEIGHT / (2 * np.pi * sigma ** 2)
    return ((sliced[:-1] + prior * fallback) / (sliced[-1] + prior)).astype(np.float32)


def unsupported_depths(x: np.ndarray, y: np.ndarray, inv: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which track depths no neighbour backs up: (N,) bool for tracks at pixels (x, y) with inverse depths ``inv``.

    A lone track far nearer (or farther) than everything around it is a failed triangulation, not a
    surface: spread over the image it becomes a blob of wrong depth, which a camera move smears across
    the frame. A track counts as unsupported when, among the tracks within :data:`SUPPORT_RADIUS` mean
    spacings of it (at least 2 × :data:`MIN_SUPPORT` of them), fewer than :data:`MIN_SUPPORT` have a
    depth within about :data:`SUPPORT_RATIO` of its own (log-depth bins of that width, ± one bin). Where
    tracks are sparse (a plain surface) the neighbourhood widens, up to :data:`SUPPORT_WIDENING` times,
    until it holds enough of them: there a lone track would spread the furthest. A real object, even a
    thin one, has several tracks of its depth and keeps them. ``shape`` (h, w) is the image the pixels
    belong to; counting runs on a grid there (no per-track search).
    """
    h, w = shape
    lone = np.zeros(len(inv), bool)
    if len(inv) <= 2 * MIN_SUPPORT:
        return lone
    log_inv = np.log(inv)
    bins = np.floor((log_inv - log_inv.min()) / np.log(SUPPORT_RATIO)).astype(np.int64)
    cols = np.clip(np.round(x).astype(np.int64), 0, w - 1)
    rows = np.clip(np.round(y).astype(np.int64), 0, h - 1)
    grid = np.zeros((bins.max() + 3, h, w), np.float32)  # one empty bin on either side
    np.add.at(grid, (bins + 1, rows, cols), 1.0)
    b, each = bins + 1, np.arange(len(bins))
    judged = np.zeros(len(inv), bool)
    base = max(1, round(SUPPORT_RADIUS * np.sqrt(h * w / len(inv))))
    radius = base
    while radius <= base * SUPPORT_WIDENING:  # radius × 1, 2, … (doubling)
        window = (2 * radius + 1, 2 * radius + 1)
        counts = np.stack([cv2.boxFilter(c, -1, window, normalize=False, borderType=cv2.BORDER_CONSTANT)
                           for c in grid])
        near = counts[:, rows, cols]                                    # (bins, N): tracks around each track
        alike = near[b - 1, each] + near[b, each] + near[b + 1, each] - 1
        now = ~judged & (near.sum(0) - 1 >= 2 * MIN_SUPPORT)
        lone[now] = alike[now] < MIN_SUPPORT
        judged |= now
        if judged.all():
            break
        radius *= 2
    return lone


def scaled_intrinsics(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """``K`` (..., 3, 3) of an image resampled by (sx, sy), pixel centres kept aligned."""
    S = np.array([[sx, 0, (sx - 1) / 2], [0, sy, (sy - 1) / 2], [0, 0, 1]])
    return S @ np.asarray(K, np.float64)


def stereo_samples(gray: np.ndarray, other: np.ndarray, K: np.ndarray, w2c: np.ndarray, K_other: np.ndarray,
                   w2c_other: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two-view stereo of a static scene: per-pixel inverse depth of ``gray`` from its optical flow to ``other``.

    ``gray``/``other`` (h, w) uint8 images of the posed cameras (``K`` in pixels of these images, ``w2c``
    world-to-camera). Every pixel is triangulated along its ray against its flow end point (least
    squares in the other image). Returns pixels x, y, inverse depth (1/metres) and a weight in
    [0, 1] for the pixels that are trustworthy: forward-backward consistent and on the epipolar
    line within :data:`STEREO_MAX_ERROR` pixels, in front of both cameras, with parallax (the flow
    beyond what a point at infinity would do) of at least :data:`MIN_PARALLAX` pixels; the weight
    grows with the parallax up to :data:`FULL_PARALLAX`.
    """
    h, w = gray.shape
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    fwd = flow.calc(gray, other, None)
    bwd = flow.calc(other, gray, None)
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    ex, ey = u + fwd[..., 0], v + fwd[..., 1]
    back = cv2.remap(bwd, ex, ey, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    consistent = np.hypot(fwd[..., 0] + back[..., 0], fwd[..., 1] + back[..., 1]) <= STEREO_MAX_ERROR
    # The other camera's homogeneous pixel of the point at camera depth d on pixel (u, v)'s ray: a + d b.
    M = np.asarray(w2c_other, np.float64) @ np.linalg.inv(np.asarray(w2c, np.float64))
    rays = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(h * w)])
    a = (K_other @ M[:3, 3])[:, None]
    b = K_other @ M[:3, :3] @ rays
    qx, qy = ex.ravel().astype(np.float64), ey.ravel().astype(np.float64)
    # Seen from the other camera the point is ∝ b + s a with s = 1/d; its projection is the flow's end
    # point q where (b_x + s a_x) - q_x (b_z + s a_z) = 0, the same in y: least squares for s.
    px, py = a[0] - qx * a[2], a[1] - qy * a[2]
    rx, ry = b[0] - qx * b[2], b[1] - qy * b[2]
    inv = -(px * rx + py * ry) / np.maximum(px * px + py * py, 1e-12)
    hom = b + a * inv
    zo = hom[2]
    err = np.hypot(hom[0] / np.where(zo > 0, zo, 1) - qx, hom[1] / np.where(zo > 0, zo, 1) - qy)
    far_x, far_y = b[0] / np.where(b[2] > 0, b[2], 1), b[1] / np.where(b[2] > 0, b[2], 1)
    parallax = np.hypot(qx - far_x, qy - far_y)
    ok = (consistent.ravel() & (inv > 0) & (zo > 0) & (b[2] > 0) & (err <= STEREO_MAX_ERROR)
          & (parallax >= MIN_PARALLAX))
    weight = np.clip(parallax / FULL_PARALLAX, 0, 1)
    return u.ravel()[ok], v.ravel()[ok], inv[ok], weight[ok]


def stereo_partner(t: int, count: int) -> int:
    """The frame that frame ``t`` of ``count`` (≥ 2) is matched against for stereo: :data:`STEREO_OFFSET`
    frames later, else as many earlier, else the farther end of a clip too short for either."""
    for r in (t + STEREO_OFFSET, t - STEREO_OFFSET):
        if 0 <= r < count:
            return r
    return 0 if t >= count - 1 - t else count - 1


def dense_depth(frames: np.ndarray | None, tracks: Tracks, given: np.ndarray | None = None,
                progress: Progress | None = None) -> DenseDepth:
    """Depth maps of every frame of ``frames`` (T, h, w, 3) uint8 from its ``tracks`` (T frames).

    ``frames`` may be any resolution of the footage (the tracks' ``size`` is the footage's); they
    guide the spread and give the stereo (None: no footage at hand, the spread ignores image edges).
    ``given`` (T, h', w') camera z from the user (``--depth``) wins where it is finite and positive.
    A frame without a visible track gets depth 0 (unknown: the warp leaves it a hole).
    ``progress`` hears of each frame. Raises :class:`UserError` when the frames and
    tracks disagree.
    """
    T = tracks.num_frames if frames is None else len(frames)
    W, H = tracks.size
    if tracks.num_frames != T:
        raise UserError(f"dense depth: {T} frames but {tracks.num_frames} frames of tracks")
    w, h = work_size((W, H))
    sx, sy = w / W, h / H
    xyz = np.nan_to_num(tracks.xyz.astype(np.float64))
    dynamic = (np.zeros(tracks.num_points) if tracks.dynamic is None else tracks.dynamic.astype(np.float64))
    depth = np.empty((T, h, w), np.float32)
    moving = np.empty((T, h, w), np.float32)
    grays = None if frames is None else np.stack([cv2.cvtColor(cv2.resize(
        f if f.dtype == np.uint8 else linear_to_srgb8(f), (w, h), interpolation=cv2.INTER_AREA),
        cv2.COLOR_RGB2GRAY) for f in frames])  # scene-linear footage: as it is seen
    K = scaled_intrinsics(tracks.K, sx, sy)
    shares = {"user": 0.0, "stereo": 0.0}
    for t in range(T):
        z = xyz[t] @ tracks.w2c[t, 2, :3].astype(np.float64) + float(tracks.w2c[t, 2, 3])
        use = tracks.vis[t] & np.isfinite(tracks.xyz[t]).all(-1) & (z > MIN_DEPTH) & np.isfinite(tracks.uv[t]).all(-1)
        depth[t], moving[t] = 0.0, 0.0  # nothing seen: the depth is unknown, the warp leaves a hole
        if use.any():
            gray = np.full((h, w), 0.5, np.float32) if grays is None else grays[t] / np.float32(255)
            # Pixel centres: (u + 0.5) * scale - 0.5 maps footage pixels to working pixels.
            x = (tracks.uv[t, use, 0] + 0.5) * sx - 0.5
            y = (tracks.uv[t, use, 1] + 0.5) * sy - 0.5
            lone = unsupported_depths(x, y, 1.0 / z[use], (h, w))
            if not lone.all():
                use[use] = ~lone
                x, y = x[~lone], y[~lone]
            inv, moving[t] = spread_tracks(x, y, np.stack([1.0 / z[use], dynamic[use]]), gray)
            if grays is not None and T > 1:
                r = stereo_partner(t, T)
                xs, ys, inv_s, weight = stereo_samples(grays[t], grays[r], K[t], tracks.w2c[t], K[r], tracks.w2c[r])
                at = ys.astype(np.int64), xs.astype(np.int64)
                # Static pixels whose stereo depth refines the tracks' rather than contradicting it.
                agree = np.abs(np.log(np.maximum(inv_s, 1e-12) / np.maximum(inv[at], 1e-12)))
                still = (moving[t][at] < 0.5) & (agree <= np.log(STEREO_MAX_RATIO))
                shares["stereo"] += still.sum() / (h * w * T)
                if still.any():
                    inv = spread_tracks(np.concatenate([x, xs[still]]), np.concatenate([y, ys[still]]),
                                        np.concatenate([1.0 / z[use], inv_s[still]])[None], gray,
                                        np.concatenate([np.ones(len(x)), STEREO_WEIGHT * weight[still]]))[0]
            depth[t] = 1.0 / np.maximum(inv, 1.0 / z[use].max() / 4)
        if given is not None:
            user = cv2.resize(given[t].astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
            ok = np.isfinite(user) & (user > MIN_DEPTH)
            depth[t][ok] = user[ok]
            shares["user"] += ok.mean() / T
        if progress is not None:
            progress.count(t + 1, T, f"frame {t + 1}/{T}")
    shares["stereo"] *= 1.0 - shares["user"]
    shares["tracks"] = 1.0 - shares["user"] - shares["stereo"]
    return DenseDepth(depth=depth, dynamic=np.clip(moving, 0, 1), size=(W, H), frame_start=tracks.frame_start,
                      digests=frame_digests(tracks), sources={k: round(float(v), 4) for k, v in shares.items()})


def frame_digests(tracks: Tracks) -> np.ndarray:
    """(T,) per-frame fingerprints of ``tracks`` (positions, pixels, visibility, camera) as strings."""
    return np.array([hashlib.sha1(b"".join(np.ascontiguousarray(a[t]).tobytes() for a in
                                            (tracks.xyz, tracks.uv, tracks.vis, tracks.K, tracks.w2c))).hexdigest()[:16]
                     for t in range(tracks.num_frames)])


def depth_path(tracks_path: str | os.PathLike) -> Path:
    """Where the dense depth of tracks file ``tracks_path`` is cached: ``<stem>.depth.npz`` beside it."""
    path = Path(tracks_path)
    return path.with_name(path.name.removesuffix(".npz") + DEPTH_SUFFIX)


def save_dense_depth(depth: DenseDepth, path: str | os.PathLike) -> Path:
    """Write ``depth`` atomically (depth float32, dynamic share float16) to ``path``."""
    with atomic_file(path, ".npz") as tmp:
        np.savez_compressed(tmp, format=np.int32(DEPTH_FORMAT), depth=depth.depth.astype(np.float32),
                            dynamic=depth.dynamic.astype(np.float16), size=np.int32(depth.size),
                            frame_start=np.int32(depth.frame_start), digests=depth.digests.astype("U16"))
    return Path(path)


def cached_dense_depth(tracks_path: str | os.PathLike, tracks: Tracks) -> DenseDepth | None:
    """The cached depth of ``tracks`` (any frame range of the tracks file ``tracks_path``), or None
    when there is no cache or it belongs to other tracks (the tracks were made again)."""
    path = depth_path(tracks_path)
    if not path.is_file():
        return None
    data = read_npz(path, "dense depth cache")
    try:
        if int(data["format"]) != DEPTH_FORMAT or tuple(int(v) for v in data["size"]) != tuple(tracks.size):
            return None
        first = tracks.frame_start - int(data["frame_start"])
        frames = slice(first, first + tracks.num_frames)
        if first < 0 or not np.array_equal(data["digests"][frames], frame_digests(tracks)):
            return None
        return DenseDepth(depth=data["depth"][frames].astype(np.float32),
                          dynamic=data["dynamic"][frames].astype(np.float32), size=tracks.size,
                          frame_start=tracks.frame_start, digests=data["digests"][frames])
    except (KeyError, ValueError, TypeError, IndexError):
        return None


def dense_depth_for(tracks_path: str | os.PathLike, frames: np.ndarray | None, tracks: Tracks,
                    progress: Progress | None = None) -> DenseDepth:
    """The dense depth of ``tracks`` from its cache beside ``tracks_path``, else computed from ``frames``
    (see :func:`dense_depth`; None when the footage is not at hand)."""
    cached = cached_dense_depth(tracks_path, tracks)
    return dense_depth(frames, tracks, progress=progress) if cached is None else cached
