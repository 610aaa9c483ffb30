"""A tiny ray-cast scene for tracker tests (no Blender): textured ground + back wall + a moving ball.

World: Blender-like, z up, metres. Cameras: OpenCV w2c. Everything is exact, so tests can compare
the tracker's camera and depth with the truth.
"""

from __future__ import annotations

import numpy as np

WALL_Y = 8.0
BALL_RADIUS = 0.5


def noise_texture(seed: int, size: int = 512, scales: tuple[int, ...] = (4, 16, 64)) -> np.ndarray:
    """(size, size, 3) uint8 multi-scale value noise: detail at every scale, so flow can track it."""
    import cv2

    rng = np.random.default_rng(seed)
    tex = np.zeros((size, size, 3), np.float32)
    for scale in scales:
        noise = rng.random((size // scale + 1, size // scale + 1, 3)).astype(np.float32)
        tex += cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)[:size, :size] / 3
    return np.clip(tex * 255, 0, 255).astype(np.uint8)


def look_at(eye, target) -> np.ndarray:
    """OpenCV w2c of a camera at ``eye`` looking at ``target``, world +Z up."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    w2c = np.eye(4)
    w2c[:3, :3] = np.stack([x, y, z])
    w2c[:3, 3] = -w2c[:3, :3] @ eye
    return w2c


def ball_centre(s: float) -> np.ndarray:
    """World centre of the moving ball (radius :data:`BALL_RADIUS`) at clip time s in [0, 1]."""
    return np.array([0.6 - 1.2 * s, 2.5 - 1.0 * s, 0.6])


def ground_truth_tracks(depth: np.ndarray, K: np.ndarray, w2c: np.ndarray, ball: np.ndarray, count: int,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` surface points seen in frame 0 → world xyz (T, N, 3), visibility (T, N), on-ball (N,).

    Visibility: inside the image, in front, and within 2 % of the rendered depth.
    """
    T, H, W = depth.shape
    rng = np.random.default_rng(seed)
    u, v = rng.uniform(0, W - 1, count), rng.uniform(0, H - 1, count)
    col, row = np.round(u).astype(int), np.round(v).astype(int)
    z = depth[0, row, col]
    keep = np.isfinite(z)
    u, v, z, on_ball = u[keep], v[keep], z[keep], ball[0, row[keep], col[keep]]
    cam = np.stack([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z], -1)
    c2w = np.linalg.inv(w2c[0])
    world0 = cam @ c2w[:3, :3].T + c2w[:3, 3]
    s = np.arange(T) / max(1, T - 1)
    xyz = np.repeat(world0[None], T, 0)
    xyz[:, on_ball] += np.stack([ball_centre(x) - ball_centre(0.0) for x in s])[:, None]
    pc = np.einsum("tij,tnj->tni", w2c[:, :3, :3], xyz) + w2c[:, None, :3, 3]
    zc = pc[..., 2]
    pu = pc[..., 0] / np.maximum(zc, 1e-9) * K[0, 0] + K[0, 2]
    pv = pc[..., 1] / np.maximum(zc, 1e-9) * K[1, 1] + K[1, 2]
    inside = (zc > 0) & (pu >= 0) & (pu <= W - 1) & (pv >= 0) & (pv <= H - 1)
    d = depth[np.arange(T)[:, None], np.clip(np.round(pv).astype(int), 0, H - 1),
              np.clip(np.round(pu).astype(int), 0, W - 1)]
    vis = inside & (zc <= d * 1.02 + 1e-3)
    return xyz, vis, on_ball


def render_clip(T: int = 16, size=(160, 120), focal: float = 140.0, move: float = 1.2, ball: bool = True,
                rotate_only: bool = False, seed: int = 0):
    """Render T frames → (frames (T,H,W,3) uint8, depth (T,H,W) camera z, K (3,3), w2c (T,4,4),
    ball (T,H,W) bool: pixels showing the moving ball)."""
    import cv2

    W, H = size
    K = np.array([[focal, 0, (W - 1) / 2], [0, focal, (H - 1) / 2], [0, 0, 1]])
    tex_ground, tex_wall, tex_ball = noise_texture(seed), noise_texture(seed + 1), noise_texture(seed + 2)
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    cam_rays = np.stack([(u - K[0, 2]) / focal, (v - K[1, 2]) / focal, np.ones_like(u)], -1)
    frames, depths, poses, balls = [], [], [], []
    for t in range(T):
        s = t / max(1, T - 1)
        if rotate_only:
            eye = np.array([0.0, -2.0, 1.5])
            target = eye + [np.sin(0.3 * s - 0.15) * 5, 5, -0.8]
        else:
            eye = np.array([-move / 2 + move * s, -2.0, 1.5 + 0.2 * s])
            target = [0.0, 3.0, 0.8]
        w2c = look_at(eye, target)
        R = w2c[:3, :3]
        d = cam_rays @ R  # world directions (rows: R^T @ ray)
        best = np.full((H, W), np.inf)
        image = np.zeros((H, W, 3), np.uint8)
        tg = np.where(d[..., 2] < -1e-9, -eye[2] / np.where(d[..., 2] < -1e-9, d[..., 2], -1), np.inf)
        tw = np.where(d[..., 1] > 1e-9, (WALL_Y - eye[1]) / np.where(d[..., 1] > 1e-9, d[..., 1], 1), np.inf)
        for tt, tex, axes in ((tg, tex_ground, (0, 1)), (tw, tex_wall, (0, 2))):
            hit = tt < best
            p = eye + d * np.where(hit, tt, 0)[..., None]
            mx = ((p[..., axes[0]] * 15) % 512).astype(np.float32)
            my = ((p[..., axes[1]] * 15) % 512).astype(np.float32)
            col = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
            image[hit], best[hit] = col[hit], tt[hit]
        if ball:
            centre = ball_centre(s)
            oc = eye - centre
            b = np.einsum("hwi,i->hw", d, oc)
            c = oc @ oc - BALL_RADIUS**2
            a = np.einsum("hwi,hwi->hw", d, d)
            disc = b * b - a * c
            tb = np.where(disc > 0, (-b - np.sqrt(np.maximum(disc, 0))) / a, np.inf)
            hit = (tb > 0) & (tb < best)
            p = eye + d * tb[..., None] - centre
            mx = ((np.arctan2(p[..., 1], p[..., 0]) + np.pi) * 40 % 512).astype(np.float32)
            my = ((np.arccos(np.clip(p[..., 2] / BALL_RADIUS, -1, 1))) * 40 % 512).astype(np.float32)
            col = cv2.remap(tex_ball, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
            image[hit], best[hit] = col[hit], tb[hit]
        balls.append(np.isfinite(best) & (best == tb) if ball else np.zeros((H, W), bool))
        frames.append(image)
        depths.append(best * np.einsum("hwi,i->hw", d, R[2]))  # ray parameter → camera z
        poses.append(w2c)
    return np.stack(frames), np.stack(depths).astype(np.float32), K, np.stack(poses), np.stack(balls)
