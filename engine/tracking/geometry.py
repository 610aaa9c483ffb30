"""Multi-view geometry on tracks: triangulation, reprojection errors, ray angles, bundle adjustment.

Shapes: ``uv`` (T, N, 2) pixels, ``vis`` (T, N) bool, ``K`` (3, 3) pixels (one camera for the clip),
``w2c`` (T, 4, 4) world-to-camera in OpenCV axes (x right, y down, z forward), points (N, 3) world.
"""

from __future__ import annotations

import numpy as np

REFINE_ITERATIONS = 4  # Gauss–Newton steps of per-point refinement with fixed cameras
BA_LOSS_PX = 2.0  # Huber scale of bundle adjustment, pixels: larger residuals count linearly
MIN_OUTLIER_PX = 0.75  # smallest reprojection error that makes a track an outlier / a moving point
OUTLIER_NOISE_FACTOR = 4.0
BA_MAX_ITERATIONS = 25  # Levenberg–Marquardt iterations of one bundle adjustment
BA_TOLERANCE = 1e-4  # stop when an iteration lowers the cost by less than this share


def rays(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Normalised image coordinates (..., 2) of pixels ``uv`` (..., 2): ``K⁻¹ [u, v, 1]`` without the 1."""
    return (uv - K[:2, 2]) / np.array([K[0, 0], K[1, 1]])


def triangulate(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    """Linear (DLT) triangulation of every track from all its visible frames → (N, 3); NaN if < 2 views."""
    x = rays(uv, K)  # (T, N, 2)
    P = w2c[:, :3, :]  # (T, 3, 4)
    w = vis.astype(np.float64)[..., None]
    rows_u = (x[..., 0:1] * P[:, None, 2, :] - P[:, None, 0, :]) * w  # (T, N, 4)
    rows_v = (x[..., 1:2] * P[:, None, 2, :] - P[:, None, 1, :]) * w
    A = np.einsum("tni,tnj->nij", rows_u, rows_u) + np.einsum("tni,tnj->nij", rows_v, rows_v)
    _, vecs = np.linalg.eigh(A)
    h = vecs[:, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        X = h[:, :3] / h[:, 3:4]
    X[vis.sum(0) < 2] = np.nan
    return X


def refine_points(X: np.ndarray, uv: np.ndarray, vis: np.ndarray, K: np.ndarray, w2c: np.ndarray,
                  iterations: int = REFINE_ITERATIONS) -> np.ndarray:
    """Gauss–Newton refinement of static points (N, 3) on their reprojection error, cameras fixed.

    Starts from ``X`` (e.g. :func:`triangulate`); non-finite points are returned unchanged.
    """
    ok = np.isfinite(X).all(1) & (vis.sum(0) >= 2)
    P = np.where(ok[:, None], X, 0.0)
    R, t = w2c[:, :3, :3], w2c[:, :3, 3]
    f = np.array([K[0, 0], K[1, 1]])
    w = vis[..., None].astype(np.float64)
    for _ in range(iterations):
        cam = np.einsum("tij,nj->tni", R, P) + t[:, None]
        z = np.where(np.abs(cam[..., 2]) < 1e-6, 1e-6, cam[..., 2])
        r = (cam[..., :2] / z[..., None] * f + K[:2, 2] - uv) * w  # (T, N, 2)
        dproj = np.zeros(cam.shape[:2] + (2, 3))
        dproj[..., 0, 0] = f[0] / z
        dproj[..., 1, 1] = f[1] / z
        dproj[..., 0, 2] = -f[0] * cam[..., 0] / z**2
        dproj[..., 1, 2] = -f[1] * cam[..., 1] / z**2
        J = np.einsum("tnab,tbc->tnac", dproj, R) * w[..., None]  # (T, N, 2, 3)
        H = np.einsum("tnai,tnaj->nij", J, J)
        H += (1e-9 * np.trace(H, axis1=1, axis2=2) + 1e-12)[:, None, None] * np.eye(3)
        H[~ok] = np.eye(3)
        g = np.einsum("tnai,tna->ni", J, r)
        P = P - np.linalg.solve(H, g[..., None])[..., 0]
    return np.where(ok[:, None], P, X)


def project(X: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Static points (N, 3) → pixels (T, N, 2) and camera depth (T, N) in every frame."""
    cam = np.einsum("tij,nj->tni", w2c[:, :3, :3], X) + w2c[:, None, :3, 3]
    z = cam[..., 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    uv = cam[..., :2] / safe[..., None] * np.array([K[0, 0], K[1, 1]]) + K[:2, 2]
    return uv, z


def reprojection_errors(X: np.ndarray, uv: np.ndarray, vis: np.ndarray, K: np.ndarray,
                        w2c: np.ndarray) -> np.ndarray:
    """(T, N) pixel distance between tracks and their static points; inf behind the camera, NaN if unseen."""
    proj, z = project(X, K, w2c)
    err = np.linalg.norm(proj - uv, axis=-1)
    err = np.where(z > 0, err, np.inf)
    return np.where(vis, err, np.nan)


def epipolar_errors(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    """(T, N) pixel distance of each track from the epipolar line of its first visible position; NaN
    where unseen or in that first frame. Unlike :func:`reprojection_errors` it needs no 3D point, so
    it also judges tracks too short or too parallax-poor to triangulate."""
    T, N = vis.shape
    first = vis.argmax(0)
    Kinv = np.linalg.inv(K)
    x_first = np.c_[uv[first, np.arange(N)], np.ones(N)]
    out = np.full((T, N), np.nan)
    for t in range(T):
        rel = w2c[t] @ np.linalg.inv(w2c[first])  # (N, 4, 4): first camera → camera t
        R, b = rel[:, :3, :3], rel[:, :3, 3]
        skew = np.zeros((N, 3, 3))
        skew[:, 0, 1], skew[:, 0, 2], skew[:, 1, 2] = -b[:, 2], b[:, 1], -b[:, 0]
        skew[:, 1, 0], skew[:, 2, 0], skew[:, 2, 1] = b[:, 2], -b[:, 1], b[:, 0]
        line = np.einsum("ij,njk,kl,nl->ni", Kinv.T, skew @ R, Kinv, x_first)  # F x in image t
        dist = np.abs(np.einsum("ni,ni->n", line, np.c_[uv[t], np.ones(N)]))
        dist /= np.maximum(np.linalg.norm(line[:, :2], axis=1), 1e-12)
        out[t] = np.where(vis[t] & (first != t), dist, np.nan)
    return out


def ray_angles(X: np.ndarray, vis: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    """(N,) largest angle in degrees between the ray of a point's first view and its other views."""
    centres = -np.einsum("tji,tj->ti", w2c[:, :3, :3], w2c[:, :3, 3])  # (T, 3) = -Rᵀ t
    d = X[None] - centres[:, None]  # (T, N, 3)
    d /= np.linalg.norm(d, axis=-1, keepdims=True) + 1e-12
    first = vis.argmax(0)
    ref = d[first, np.arange(d.shape[1])]
    cos = np.clip(np.einsum("tni,ni->tn", d, ref), -1, 1)
    cos = np.where(vis, cos, 1.0)
    return np.degrees(np.arccos(cos.min(0)))


def _rotation_update(w: np.ndarray) -> np.ndarray:
    """exp([w]x) for rotation vectors w (M, 3) → (M, 3, 3) (Rodrigues' formula)."""
    angle = np.linalg.norm(w, axis=-1)[:, None, None]
    cross = np.zeros((len(w), 3, 3))
    cross[:, 0, 1], cross[:, 0, 2], cross[:, 1, 2] = -w[:, 2], w[:, 1], -w[:, 0]
    cross -= cross.transpose(0, 2, 1)
    small = angle < 1e-8  # the series' first terms: sin(a)/a → 1, (1 - cos a)/a² → 1/2
    safe = np.where(small, 1.0, angle)
    sin_term = np.where(small, 1.0 - angle**2 / 6, np.sin(safe) / safe)
    cos_term = np.where(small, 0.5 - angle**2 / 24, (1 - np.cos(safe)) / safe**2)
    return np.eye(3) + sin_term * cross + cos_term * cross @ cross


def outlier_threshold(track_errors: np.ndarray, factor: float = OUTLIER_NOISE_FACTOR,
                      floor_px: float = MIN_OUTLIER_PX) -> float:
    """Reprojection error (pixels) above which a track does not fit a static point: a multiple of
    the typical track's error (``factor`` × median), at least ``floor_px``."""
    finite = track_errors[np.isfinite(track_errors)]
    typical = float(np.median(finite)) if len(finite) else 0.0
    return max(floor_px, factor * typical)


def _accumulate(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum ``values`` (M, ...) into ``size`` bins by ``index`` (M,) — a fast ``np.add.at``."""
    flat = values.reshape(len(values), -1)
    out = np.stack([np.bincount(index, flat[:, k], minlength=size) for k in range(flat.shape[1])], -1)
    return out.reshape((size,) + values.shape[1:])


def column_percentile(a: np.ndarray, q: float) -> np.ndarray:
    """Per-column ``q``-th percentile (lower value, no interpolation) of (T, N) ignoring NaN; NaN if empty.

    Much faster than ``np.nanpercentile(a, q, axis=0)``, which loops over columns in Python.
    """
    count = np.sum(~np.isnan(a), axis=0)
    ordered = np.sort(a, axis=0)  # NaN sort last
    k = np.clip(np.floor(q / 100 * (count - 1)).astype(int), 0, len(a) - 1)
    out = np.take_along_axis(ordered, k[None], 0)[0]
    return np.where(count > 0, out, np.nan)


def _inv3(m: np.ndarray) -> np.ndarray:
    """Inverse of many 3×3 matrices (M, 3, 3) by the adjugate (much faster than np.linalg.inv here)."""
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    d, e, f = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    g, h, i = m[:, 2, 0], m[:, 2, 1], m[:, 2, 2]
    adj = np.stack([e * i - f * h, c * h - b * i, b * f - c * e,
                    f * g - d * i, a * i - c * g, c * d - a * f,
                    d * h - e * g, b * g - a * h, a * e - b * d], -1).reshape(-1, 3, 3)
    det = a * adj[:, 0, 0] + b * adj[:, 1, 0] + c * adj[:, 2, 0]
    return adj / det[:, None, None]


def _huber(norms: np.ndarray) -> tuple[float, np.ndarray]:
    """Huber cost (scale :data:`BA_LOSS_PX`) of residual norms, and the IRLS weight of each."""
    d = BA_LOSS_PX
    cost = np.where(norms <= d, 0.5 * norms**2, d * (norms - 0.5 * d))
    return float(cost.sum()), np.where(norms <= d, 1.0, d / np.maximum(norms, 1e-12))


def bundle_adjust(uv: np.ndarray, vis: np.ndarray, K: np.ndarray, w2c: np.ndarray, X: np.ndarray,
                  fixed_frame: int, refine_focal: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Refine poses, points and optionally the focal length to minimise Huber reprojection error.

    Levenberg–Marquardt on the normal equations with the points eliminated (Schur complement; the
    reduced camera system is dense, 6 per frame + 1 focal). Frame ``fixed_frame`` keeps its pose
    (gauge). Only observations with ``vis`` take part; points must be finite.
    Returns (K, w2c, X, median reprojection error in pixels).
    """
    T, N = vis.shape
    t_idx, n_idx = np.nonzero(vis)
    obs = uv[t_idx, n_idx]
    slot = np.full(T, -1)
    free = np.array([t for t in range(T) if t != fixed_frame])
    slot[free] = np.arange(len(free))
    s = slot[t_idx]
    has = s >= 0
    C = 6 * len(free) + (1 if refine_focal else 0)
    R, tvec, P, f = w2c[:, :3, :3].copy(), w2c[:, :3, 3].copy(), X.copy(), float(K[0, 0])
    c = K[:2, 2]
    cam_rows = 6 * s[has, None] + np.arange(6)

    def evaluate(R, tvec, P, f):
        rp = np.einsum("nij,nj->ni", R[t_idx], P[n_idx])
        cam = rp + tvec[t_idx]
        z = np.maximum(cam[:, 2], 1e-6)
        xy = cam[:, :2] / z[:, None]
        return rp, z, xy, xy * f + c - obs

    rp, z, xy, r = evaluate(R, tvec, P, f)
    cost, weight = _huber(np.linalg.norm(r, axis=1))
    lam = 1e-3
    for _ in range(BA_MAX_ITERATIONS):
        # Jacobians of each observation's 2 residuals.
        dproj = np.zeros((len(r), 2, 3))
        dproj[:, 0, 0] = dproj[:, 1, 1] = f / z
        dproj[:, 0, 2] = -f * xy[:, 0] / z
        dproj[:, 1, 2] = -f * xy[:, 1] / z
        skew = np.zeros((len(r), 3, 3))  # d(exp(w) R P)/dw at w = 0: -[R P]x
        skew[:, 0, 1], skew[:, 0, 2], skew[:, 1, 2] = rp[:, 2], -rp[:, 1], rp[:, 0]
        skew[:, 1, 0], skew[:, 2, 0], skew[:, 2, 1] = -rp[:, 2], rp[:, 1], -rp[:, 0]
        Jc = np.concatenate([dproj @ skew, dproj], axis=2)  # (M, 2, 6)
        Jp = dproj @ R[t_idx]  # (M, 2, 3)
        Jf = (xy * f)[..., None]  # (M, 2, 1), d r / d log f
        wJp = Jp * weight[:, None, None]
        wJc = Jc * weight[:, None, None]
        # Normal equations: [U W; W^T V] [dc; dp] = -[gc; gp].
        wJpT = wJp.transpose(0, 2, 1)
        V = _accumulate(n_idx, wJpT @ Jp, N)
        gp = _accumulate(n_idx, (wJpT @ r[..., None])[..., 0], N)
        wJcT = wJc[has].transpose(0, 2, 1)
        U = np.zeros((C, C))
        gc = np.zeros(C)
        Ub = _accumulate(s[has], wJcT @ Jc[has], len(free))
        for k in range(len(free)):
            U[6 * k:6 * k + 6, 6 * k:6 * k + 6] = Ub[k]
        gc[:6 * len(free)] = _accumulate(s[has], (wJcT @ r[has][..., None])[..., 0], len(free)).ravel()
        Z = np.zeros((N, C, 3))
        Z[n_idx[has, None], cam_rows] = wJcT @ Jp[has]
        if refine_focal:
            wJf = Jf * weight[:, None, None]
            U[-1, -1] = np.sum(wJf * Jf)
            cross = _accumulate(s[has], (wJcT @ Jf[has])[..., 0], len(free))
            U[:-1, -1] = U[-1, :-1] = cross.ravel()
            gc[-1] = np.sum(wJf[..., 0] * r)
            Z[:, -1] = _accumulate(n_idx, (wJf.transpose(0, 2, 1) @ Jp)[:, 0], N)
        Zt = Z.transpose(1, 0, 2).reshape(C, -1)
        while True:
            Vd = V + lam * (np.eye(3) * V.diagonal(axis1=1, axis2=2)[:, None, :] + 1e-9 * np.eye(3))
            Vinv = _inv3(Vd)
            ZV = Z @ Vinv
            S = U + lam * np.diag(np.diag(U) + 1e-9) - ZV.transpose(1, 0, 2).reshape(C, -1) @ Zt.T
            rhs = -gc + ZV.transpose(1, 0, 2).reshape(C, -1) @ gp.ravel()
            try:
                dc = np.linalg.solve(S, rhs)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            dp = -(Vinv @ (gp + (Zt.T @ dc).reshape(N, 3))[..., None])[..., 0]
            R_new, t_new = R.copy(), tvec.copy()
            d6 = dc[:6 * len(free)].reshape(-1, 6)
            R_new[free] = _rotation_update(d6[:, :3]) @ R[free]
            t_new[free] = tvec[free] + d6[:, 3:]
            f_new = f * np.exp(dc[-1]) if refine_focal else f
            P_new = P + dp
            rp_n, z_n, xy_n, r_n = evaluate(R_new, t_new, P_new, f_new)
            cost_n, weight_n = _huber(np.linalg.norm(r_n, axis=1))
            if cost_n < cost:
                done = (cost - cost_n) < BA_TOLERANCE * cost
                R, tvec, P, f, rp, z, xy, r, cost, weight = R_new, t_new, P_new, f_new, rp_n, z_n, xy_n, r_n, cost_n, weight_n
                lam = max(lam / 3, 1e-7)
                break
            lam *= 4
            if lam > 1e6:
                done = True
                break
        if done:
            break
    K = K.copy()
    K[0, 0] = K[1, 1] = f
    out = np.tile(np.eye(4), (T, 1, 1))
    out[:, :3, :3], out[:, :3, 3] = R, tvec
    return K, out, P, float(np.median(np.linalg.norm(r, axis=1)))
