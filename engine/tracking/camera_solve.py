"""The source camera from 2D tracks: one focal length for the clip and a pose for every frame.

With parallax (a translating camera): two-view initialisation from frame 0 and the first frame with
enough parallax (essential matrix), then every other frame registered by PnP against the points
triangulated so far (new points triangulated as frames come in), then a global bundle adjustment on
a subsample of tracks (:func:`.geometry.bundle_adjust`). A frame PnP cannot register keeps its
neighbour's pose and is listed in the report, and so is a frame whose bundle-adjusted points span a
small patch of the image (:func:`support_shares`): points in one small patch cannot tell the camera
turning from moving, so its pose there may be off by degrees. Without parallax (locked-off or purely
rotating camera) the poses are rotation-only, fitted to the tracks' rays; so they are too when
:data:`ROTATION_FIT_SHARE` of the tracks fit a rotation (a pan with things moving in the shot, whose
tracks leave the homography as parallax would).

The world frame here is frame 0's camera (OpenCV axes), at an arbitrary scale (parallax) or the
unit sphere (rotation); :mod:`.pipeline` moves it into the Blender-friendly frame.

Focal length: given (``focal_px``), else estimated when there is parallax — each candidate of
:data:`FOCAL_CANDIDATES_FOV_DEG` solves a subsample of the clip and the one with the smallest
reprojection error (of equally good ones, the nearest :data:`FOCAL_PRIOR_FOV_DEG`) seeds the final
bundle adjustment, which refines it; for a rotating camera, the
focal that makes the frame-to-frame motion most like a rotation; else (locked-off camera)
:func:`default_focal` (a 50 mm lens on a 36 mm sensor, Blender's default camera).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..frame_ranges import format_frame_ranges, frame_ranges
from ..jobs import Progress
from .geometry import (
    bundle_adjust,
    column_percentile,
    outlier_threshold,
    ray_angles,
    rays,
    reprojection_errors,
    triangulate,
)

DEFAULT_LENS_MM = 50.0  # default focal length (36 mm sensor, along the image's longer side)
DEFAULT_SENSOR_MM = 36.0
FOCAL_CANDIDATES_FOV_DEG = (30.0, 40.0, 50.0, 60.0, 70.0, 85.0)  # field of view along the longer side
PARALLAX_PERCENTILE = 80  # parallax of a frame pair: this percentile of off-homography motion
ROTATION_FIT_PX = 1.0  # a track fits a rotating camera if 80 % of its positions are this close to the fit
ROTATION_FIT_SHARE = 0.7  # rotation-only poses whenever this share of the tracks fits them
MIN_PARALLAX_PX = 1.5  # off-homography motion below this everywhere → rotation-only camera
INIT_PARALLAX_PX = 6.0  # parallax that makes a frame good enough for two-view initialisation
MIN_COMMON_TRACKS = 30  # tracks two frames must share for initialisation / a homography
RANSAC_PX = 1.5  # inlier threshold of essential-matrix, homography and PnP RANSAC, pixels
TRIANGULATE_PX = 3.0  # largest reprojection error of a newly triangulated point, pixels
MIN_RAY_ANGLE_DEG = 1.0  # smallest triangulation angle of a point used for registration
MIN_PNP_POINTS = 12
MAX_PNP_POINTS = 800  # 2D-3D matches PnP uses (evenly spaced subset), for speed  # fewer 2D-3D matches: the frame keeps its neighbour's pose
BA_MAX_POINTS = 1500  # points in the global bundle adjustment (longest tracks, spread out)
BA_ROUNDS = 2  # bundle adjustments, each after dropping points that do not fit the last one
# ... by more than this multiple of the median track's error (at least BA_OUTLIER_MIN_PX): stricter than
# the moving-point test, since tracks sliding along silhouettes bend the camera (bench RotErr 2.36° → 2.05°)
BA_OUTLIER_FACTOR = 2.5
BA_OUTLIER_MIN_PX = 0.4
KEYFRAME_SHARE = 0.5  # rotation-only poses: keep the reference frame while it shares this share of tracks
ROTATION_FOCAL_FOV_RANGE_DEG = (20.0, 100.0)  # focal search of a rotating camera: field of view range
ROTATION_FOCAL_STEPS = 41
ROTATION_FOCAL_MIN_CONTRAST_PX = 0.05  # focal search: less error contrast (pixels) → too little rotation to tell
ROTATION_ROBUST_PX = 1.0  # Cauchy scale of rotation fits, pixels
ROTATION_IRLS_STEPS = 5  # reweighting steps of one rotation fit
ROTATION_REFINE_STEPS = 3  # global refinement rounds of rotation-only poses
FOCAL_TIE = 0.15  # focal candidates whose error is within this share of the best are a tie
FOCAL_WEAK_TIES = 3  # this many tied candidates: the report calls the focal length weakly constrained
FOCAL_SEARCH_FRAMES = 12  # frames and points of each focal candidate's trial solve
FOCAL_SEARCH_POINTS = 300
FOCAL_PRIOR_FOV_DEG = 50.0  # tied focal candidates: the field of view preferred (a normal lens)
WEAK_SUPPORT_SHARE = 0.05  # a frame whose solved points span less of the image than this has an uncertain pose


@dataclasses.dataclass
class CameraSolution:
    """``K`` (3, 3) pixels, ``w2c`` (T, 4, 4) OpenCV world-to-camera; ``mode`` 'parallax' | 'rotation';
    ``report`` JSON-able facts (focal source, registered frames, errors)."""

    K: np.ndarray
    w2c: np.ndarray
    mode: str
    report: dict


def default_focal(size: tuple[int, int]) -> float:
    """Focal length in pixels of :data:`DEFAULT_LENS_MM` on :data:`DEFAULT_SENSOR_MM` (longer side)."""
    return DEFAULT_LENS_MM / DEFAULT_SENSOR_MM * max(size)


def intrinsics(focal: float, size: tuple[int, int]) -> np.ndarray:
    """K (3, 3) with square pixels and the principal point at the image centre."""
    w, h = size
    return np.array([[focal, 0, (w - 1) / 2], [0, focal, (h - 1) / 2], [0, 0, 1.0]])


def _homography_residual(cv2, a: np.ndarray, b: np.ndarray) -> float:
    H, _ = cv2.findHomography(a, b, cv2.RANSAC, RANSAC_PX)
    if H is None:
        return 0.0
    p = np.c_[a, np.ones(len(a))] @ H.T
    return float(np.percentile(np.linalg.norm(p[:, :2] / p[:, 2:3] - b, axis=1), PARALLAX_PERCENTILE))


def measure_parallax(uv: np.ndarray, vis: np.ndarray, reference: int = 0) -> np.ndarray:
    """(T,) off-homography motion (:data:`PARALLAX_PERCENTILE`) in pixels of each frame against ``reference`` (0 if too few)."""
    import cv2

    out = np.zeros(len(uv))
    for t in range(len(uv)):
        common = vis[reference] & vis[t]
        if t != reference and common.sum() >= MIN_COMMON_TRACKS:
            out[t] = _homography_residual(cv2, uv[reference, common], uv[t, common])
    return out


def _two_view(cv2, uv, vis, K, a, b):
    common = vis[a] & vis[b]
    E, mask = cv2.findEssentialMat(uv[a, common], uv[b, common], K, cv2.USAC_ACCURATE, 0.999, RANSAC_PX)
    if E is None or E.shape != (3, 3):
        return None
    _, R, t, mask = cv2.recoverPose(E, uv[a, common], uv[b, common], K, mask=mask)
    w2c = np.tile(np.eye(4), (len(uv), 1, 1))
    w2c[b, :3, :3], w2c[b, :3, 3] = R, t.ravel()
    return w2c


def _good_points(X, uv, vis, K, w2c):
    """(N,) points seen twice, within :data:`TRIANGULATE_PX` everywhere, with a wide enough ray angle."""
    err = reprojection_errors(X, uv, vis, K, w2c)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(X).all(1) & (vis.sum(0) >= 2) & (np.where(vis, err, 0).max(0) < TRIANGULATE_PX)
    return ok & (ray_angles(np.nan_to_num(X), vis, w2c) >= MIN_RAY_ANGLE_DEG)


def _register(cv2, X, known, uv_t, vis_t, K, guess):
    use = np.nonzero(known & vis_t)[0]
    if len(use) < MIN_PNP_POINTS:
        return None
    use = use[np.linspace(0, len(use) - 1, min(len(use), MAX_PNP_POINTS)).astype(int)]
    rvec, _ = cv2.Rodrigues(guess[:3, :3])
    tvec = guess[:3, 3].reshape(3, 1).copy()
    ok, rvec, tvec, inl = cv2.solvePnPRansac(X[use], uv_t[use], K, None, rvec, tvec, True,
                                             100, RANSAC_PX * 2, 0.999, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok or inl is None or len(inl) < MIN_PNP_POINTS:
        return None
    inl = inl.ravel()
    rvec, tvec = cv2.solvePnPRefineLM(X[use][inl], uv_t[use][inl], K, None, rvec, tvec)
    w2c = np.eye(4)
    w2c[:3, :3], w2c[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
    return w2c


def support_shares(uv: np.ndarray, vis: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(T,) share of the image (``size`` = (W, H) pixels) that each frame's visible points span: the area
    of the box between their 5th and 95th percentiles in x and in y over the image's area; 0 for a frame
    with fewer than :data:`MIN_PNP_POINTS` points."""
    shares = np.zeros(len(uv))
    for t in range(len(uv)):
        seen = uv[t, vis[t]]
        if len(seen) >= MIN_PNP_POINTS:
            low, high = np.percentile(seen, [5, 95], axis=0)
            shares[t] = float(np.prod((high - low) / np.asarray(size, float)))
    return shares


def weak_frames_warning(weak_frames: list[int], frame_start: int = 0) -> str | None:
    """The artist's warning about a solve's ``weak_frames`` (frame i numbered ``frame_start + i``), or None."""
    ranges = frame_ranges(np.isin(np.arange(max(weak_frames, default=-1) + 1), weak_frames), frame_start)
    if not ranges:
        return None
    return (f"frames {format_frame_ranges(ranges)}: the camera there rests on tracked points in under "
            f"{WEAK_SUPPORT_SHARE:.0%} of the image, which cannot tell it turning from moving, so its pose may be "
            "off by degrees; leave those frames out (--frames), or give depth maps (--depth) or another tracker's "
            "result (t2v import-tracks)")


def _ba_subset(vis: np.ndarray, ok: np.ndarray, limit: int) -> np.ndarray:
    """Indices of up to ``limit`` usable points, longest tracks first."""
    idx = np.nonzero(ok)[0]
    return idx[np.argsort(-vis[:, idx].sum(0), kind="stable")[:limit]]


def solve_incremental(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, init_frame: int,
                      refine_focal: bool, size: tuple[int, int], max_points: int = BA_MAX_POINTS,
                      rounds: int = BA_ROUNDS) -> CameraSolution | None:
    """Two-view init (0, ``init_frame``), PnP registration of the rest, global BA. None if init fails.
    ``size`` (W, H) is the image's, for the report's ``weak_frames`` (:func:`support_shares`)."""
    import cv2

    T = len(uv)
    w2c = _two_view(cv2, uv, vis, K, 0, init_frame)
    if w2c is None:
        return None
    registered = [0, init_frame]
    X = triangulate(uv[registered], vis[registered], K, w2c[registered])
    known = _good_points(X, uv[registered], vis[registered], K, w2c[registered])
    if known.sum() < MIN_PNP_POINTS:
        return None
    order = list(range(init_frame - 1, 0, -1)) + list(range(init_frame + 1, T))
    fallback = []
    for t in order:
        neighbour = min(registered, key=lambda r: abs(r - t))
        pose = _register(cv2, X, known, uv[t], vis[t], K, w2c[neighbour])
        registered.append(t)
        if pose is None:
            fallback.append(t)
            w2c[t] = w2c[neighbour]
            continue
        w2c[t] = pose
        new = ~known & vis[t]
        if new.any():
            frames = sorted(set(registered) - set(fallback))
            uv_n, vis_n = uv[frames][:, new], vis[frames][:, new]
            Xn = triangulate(uv_n, vis_n, K, w2c[frames])
            good = _good_points(Xn, uv_n, vis_n, K, w2c[frames])
            idx = np.nonzero(new)[0][good]
            X[idx], known[idx] = Xn[good], True
    sel = _ba_subset(vis, known, max_points)
    good = [t for t in range(T) if t not in fallback]
    for _ in range(rounds):
        # Re-triangulate from every registered frame and leave out what moves (or was mismatched).
        X_sel = triangulate(uv[good][:, sel], vis[good][:, sel], K, w2c[good])
        err = reprojection_errors(np.nan_to_num(X_sel), uv[:, sel], vis[:, sel], K, w2c)
        track_err = column_percentile(np.where(np.isinf(err), 1e6, err), 80)
        inlier = np.isfinite(X_sel).all(1) & (track_err < outlier_threshold(track_err, BA_OUTLIER_FACTOR,
                                                                           BA_OUTLIER_MIN_PX))
        sel, X_sel = sel[inlier], X_sel[inlier]
        K, w2c, _, median_err = bundle_adjust(uv[:, sel], vis[:, sel], K, w2c, X_sel, 0, refine_focal)
    support = support_shares(uv[:, sel], vis[:, sel], size)
    weak = [t for t in good if support[t] < WEAK_SUPPORT_SHARE]
    report = {"init_frames": [0, int(init_frame)], "fallback_frames": sorted(int(t) for t in fallback),
              "ba_points": int(len(sel)), "ba_median_error_px": round(median_err, 3),
              "min_support_share": round(float(support[good].min()), 3), "weak_frames": weak}
    return CameraSolution(K=K, w2c=w2c, mode="parallax", report=report)


def _keyframe_pairs(vis: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """For each frame t ≥ 1: (reference frame k < t, (N,) tracks seen in both).

    The reference stays at the last keyframe while it shares :data:`KEYFRAME_SHARE` of its tracks
    with t (less drift than chaining every frame), else it moves to t − 1.
    """
    out = []
    key = 0
    for t in range(1, len(vis)):
        if (vis[key] & vis[t]).sum() < max(MIN_COMMON_TRACKS, KEYFRAME_SHARE * vis[key].sum()):
            key = t - 1
        out.append((key, vis[key] & vis[t]))
    return out


def _bearings(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Unit ray directions (..., 3) in camera axes of pixels ``uv`` (..., 2)."""
    d = np.concatenate([rays(uv, K), np.ones(uv.shape[:-1] + (1,))], -1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def _fit_rotation(a: np.ndarray, b: np.ndarray, focal: float) -> np.ndarray:
    """Rotation R with ``b ≈ R a`` for unit directions (M, 3): Kabsch, reweighted (Cauchy,
    :data:`ROTATION_ROBUST_PX` at ``focal``) so mistracked points do not pull it."""
    weight = np.ones(len(a))
    for _ in range(ROTATION_IRLS_STEPS):
        U, _, Vt = np.linalg.svd((a * weight[:, None]).T @ b)
        R = Vt.T @ np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T))]) @ U.T
        residual_px = np.linalg.norm(b - a @ R.T, axis=1) * focal
        weight = 1 / (1 + (residual_px / ROTATION_ROBUST_PX) ** 2)
    return R


def _world_directions(b: np.ndarray, vis: np.ndarray, R: np.ndarray) -> np.ndarray:
    """(N, 3) unit world direction of each track: the mean of its rays ``b`` (T, N, 3), seen where
    ``vis``, turned back by the world-to-camera rotations ``R`` (T, 3, 3)."""
    world = np.where(vis[..., None], np.einsum("tji,tnj->tni", R, b), 0).sum(0)
    return world / (np.linalg.norm(world, axis=-1, keepdims=True) + 1e-12)


def _rotations(uv: np.ndarray, vis: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """World-to-camera rotations (T, 3, 3) of a camera turning about its centre, and the frames held
    at their predecessor's rotation (too few shared tracks).

    Chained from keyframes (:func:`_keyframe_pairs`), then refined globally: every track's world
    direction is the mean of its back-rotated rays and every frame's rotation is refitted to those
    directions (:data:`ROTATION_REFINE_STEPS` rounds; frame 0 stays the identity).
    """
    b = _bearings(uv, K)
    R = np.tile(np.eye(3), (len(uv), 1, 1))
    held = []
    for t, (key, common) in enumerate(_keyframe_pairs(vis), start=1):
        if common.sum() < MIN_COMMON_TRACKS:
            held.append(t)
            R[t] = R[t - 1]
        else:
            R[t] = _fit_rotation(b[key, common], b[t, common], K[0, 0]) @ R[key]
    for _ in range(ROTATION_REFINE_STEPS):
        world = _world_directions(b, vis, R)
        seen = vis.sum(0) >= 2
        for t in range(1, len(R)):
            use = vis[t] & seen
            if t not in held and use.sum() >= MIN_COMMON_TRACKS:
                R[t] = _fit_rotation(world[use], b[t, use], K[0, 0])
    return R, held


def _rotation_track_errors(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, R: np.ndarray) -> np.ndarray:
    """(N,) 80th percentile over frames of each track's distance (pixels) from rotation-only poses
    ``R`` (T, 3, 3): its rays are averaged into one world direction and projected back (NaN if
    seen only once)."""
    cam = np.einsum("tij,nj->tni", R, _world_directions(_bearings(uv, K), vis, R))
    pixels = cam[..., :2] / np.maximum(cam[..., 2:], 1e-9) * K[0, 0] + K[:2, 2]
    errors = np.where(vis, np.linalg.norm(pixels - uv, axis=-1), np.nan)
    errors[:, vis.sum(0) < 2] = np.nan
    return column_percentile(errors, 80)


def _rotation_error_px(uv: np.ndarray, vis: np.ndarray, K: np.ndarray) -> float:
    """Median reprojection error (pixels) of keyframe-to-frame rotations fitted at intrinsics ``K``."""
    b = _bearings(uv, K)
    errors = []
    for t, (key, common) in enumerate(_keyframe_pairs(vis), start=1):
        if common.sum() >= MIN_COMMON_TRACKS:
            moved = b[key, common] @ _fit_rotation(b[key, common], b[t, common], K[0, 0]).T
            pixels = moved[:, :2] / np.maximum(moved[:, 2:], 1e-9) * K[0, 0] + K[:2, 2]
            errors.append(np.linalg.norm(pixels - uv[t, common], axis=1))
    return float(np.median(np.concatenate(errors))) if errors else 0.0


def _rotation_focal(uv: np.ndarray, vis: np.ndarray, size: tuple[int, int], default: float) -> tuple[float, str]:
    """Focal length whose rays make the frame-to-frame motion most like a rotation.

    A locked-off camera (every focal fits equally well) keeps ``default``.
    """
    fovs = np.linspace(*ROTATION_FOCAL_FOV_RANGE_DEG, ROTATION_FOCAL_STEPS)
    focals = max(size) / 2 / np.tan(np.radians(fovs) / 2)
    scores = np.array([_rotation_error_px(uv, vis, intrinsics(f, size)) for f in focals])
    if scores.max() - scores.min() < ROTATION_FOCAL_MIN_CONTRAST_PX:
        return default, "default"
    best = int(np.clip(scores.argmin(), 1, len(fovs) - 2))
    return float(max(size) / 2 / np.tan(np.radians(_parabola_minimum(fovs[best - 1:best + 2],
                                                                      scores[best - 1:best + 2])) / 2)), "estimated"


def _parabola_minimum(x: np.ndarray, y: np.ndarray) -> float:
    """Where the parabola through three evenly spaced samples is lowest (the middle ``x`` if it is not convex)."""
    curvature = y[0] - 2 * y[1] + y[2]
    if curvature <= 0:
        return float(x[1])
    return float(x[1] + 0.5 * (x[1] - x[0]) * (y[0] - y[2]) / curvature)


def solve_rotation(uv: np.ndarray, vis: np.ndarray, size: tuple[int, int],
                   focal_px: float | None) -> CameraSolution:
    """Rotation-only poses (camera centre fixed at the origin) fitted to the tracks' rays (:func:`_rotations`).

    Without ``focal_px`` the focal length is estimated from the tracks when the camera rotates
    enough (:func:`_rotation_focal`), else :func:`default_focal`.
    """
    if focal_px is not None:
        focal, source = focal_px, "given"
    else:
        focal, source = _rotation_focal(uv, vis, size, default_focal(size))
    K = intrinsics(focal, size)
    w2c = np.tile(np.eye(4), (len(uv), 1, 1))
    w2c[:, :3, :3], held = _rotations(uv, vis, K)
    return CameraSolution(K=K, w2c=w2c, mode="rotation",
                          report={"fallback_frames": held, "focal_source": source, "focal_px": round(focal, 2)})


def _focal_trial(uv, vis, size, init_frame):
    """Focal candidate (pixels) with the smallest median reprojection error on a subsample."""
    T = len(uv)
    stride = max(1, int(np.ceil(init_frame / max(2, FOCAL_SEARCH_FRAMES // 2))))
    frames = np.arange(0, T, stride)[:FOCAL_SEARCH_FRAMES]
    if init_frame not in frames:
        frames = np.sort(np.r_[frames[frames != frames[-1]], init_frame])
    sub_init = int(np.nonzero(frames == init_frame)[0][0])
    scores = {}
    for fov in FOCAL_CANDIDATES_FOV_DEG:
        f = max(size) / 2 / np.tan(np.radians(fov) / 2)
        sol = solve_incremental(uv[frames], vis[frames], intrinsics(f, size), sub_init, False, size,
                                max_points=FOCAL_SEARCH_POINTS, rounds=1)
        if sol is not None:
            scores[f] = sol.report["ba_median_error_px"] + 10.0 * len(sol.report["fallback_frames"])
    if not scores:
        return None, 0, {}
    # Candidates within FOCAL_TIE of the best fit equally well (e.g. a dolly shot barely constrains
    # the focal length): take the one nearest a typical lens (FOCAL_PRIOR_FOV_DEG) rather than an
    # arbitrary one (the middle of the tied ones was 18.6 % off on a bench dolly shot).
    lowest = min(scores.values())
    tied = sorted(f for f, e in scores.items() if e <= lowest * (1 + FOCAL_TIE))
    prior = max(size) / 2 / np.tan(np.radians(FOCAL_PRIOR_FOV_DEG) / 2)
    return min(tied, key=lambda f: abs(np.log(f / prior))), len(tied), {f"{k:.1f}": v for k, v in scores.items()}


def _solve_parallax(uv: np.ndarray, vis: np.ndarray, size: tuple[int, int], focal_px: float | None,
                    parallax: np.ndarray, say: Callable[[float, str], None]) -> CameraSolution | None:
    """Poses of a translating camera (:func:`solve_incremental`), the focal length estimated first
    unless given; None if the two-view initialisation fails."""
    enough = np.nonzero(parallax >= INIT_PARALLAX_PX)[0]
    init = int(enough[0]) if len(enough) else int(parallax.argmax())
    K = intrinsics(focal_px if focal_px is not None else default_focal(size), size)
    report: dict = {}
    source, refine = "given", False
    if focal_px is None:
        say(0.1, "estimating the focal length")
        f, tied, scores = _focal_trial(uv, vis, size, init)
        report["focal_candidates_error_px"] = scores
        if f is not None:
            K = intrinsics(f, size)
        # The trial solves are short, so their error curve is often flat even when the whole
        # clip fixes the focal length (an orbit): the final bundle adjustment always refines it.
        # On the bench this left dolly shots' focal lengths where they were and cut orbits' 3-4×.
        refine = f is not None
        source = ("estimated" if tied < FOCAL_WEAK_TIES
                  else f"weakly constrained: {tied} candidates fit equally well; started from the one nearest a "
                       f"{FOCAL_PRIOR_FOV_DEG:g}° field of view")
    say(0.4, "registering frames")
    sol = solve_incremental(uv, vis, K, init, refine_focal=refine, size=size)
    if sol is not None:
        if refine and tied >= FOCAL_WEAK_TIES:
            fov = np.degrees(2 * np.arctan(max(size) / 2 / float(sol.K[0, 0])))
            source += f"; the bundle adjustment moved it to {fov:.0f}°: give the lens if you know it"
        sol.report = {**report, **sol.report, "focal_source": source, "focal_px": round(float(sol.K[0, 0]), 2)}
    return sol


def solve_camera(uv: np.ndarray, vis: np.ndarray, size: tuple[int, int], focal_px: float | None = None,
                 progress: Progress | None = None) -> CameraSolution:
    """Solve the camera of tracks ``uv`` (T, N, 2) / ``vis`` (T, N) in an image of ``size`` (W, H)."""
    say = Progress.of(progress)
    parallax = measure_parallax(uv, vis)
    report: dict = {"max_parallax_px": round(float(parallax.max()), 2)}
    say(0.05, "fitting a turning camera")
    rotation = solve_rotation(uv, vis, size, focal_px)
    if parallax.max() >= MIN_PARALLAX_PX:
        # Things moving in the shot leave the homography too, so a turning camera can look like one
        # with parallax. A rotation that most tracks fit is then the better model: on the bench it
        # took two panning shots with moving objects from 10° and 76° to 1.4° and 3.4°.
        errors = _rotation_track_errors(uv, vis, rotation.K, rotation.w2c[:, :3, :3])
        fit = float(np.mean(errors[np.isfinite(errors)] < ROTATION_FIT_PX))
        report["rotation_fit_share"] = round(fit, 3)
        if fit >= ROTATION_FIT_SHARE:
            report["note"] = (f"{fit:.0%} of the tracks fit a turning camera: rotation-only poses, "
                              "the other tracks are taken as moving")
        else:
            sol = _solve_parallax(uv, vis, size, focal_px, parallax, say)
            if sol is not None:
                sol.report = {**report, **sol.report}
                return sol
            report["note"] = "two-view initialisation failed; fell back to rotation-only poses"
    rotation.report = {**report, **rotation.report}
    return rotation
