"""An analytic two-plane shot with exact frames, depth and tracks, for any camera (tests and bench).

World (metres, OpenCV-like axes): a textured backdrop plane z = 0 and a textured foreground square
z = -2, |x|, |y| <= :data:`SQUARE_HALF`. Source cameras sit near z = -5 looking down +z, so the
backdrop is ~5 m and the square ~3 m away. Frames are rendered by ray casting, so a target camera
gets ground-truth frames too.
"""

from __future__ import annotations

import numpy as np

from track2view.engine.geometry.camera import CameraTrack, project_points
from track2view.engine.io.tracks import Tracks

SQUARE_Z = -2.0
SQUARE_HALF = 0.6
CAMERA_Z = -5.0


def look_at_w2c(center: np.ndarray, target: np.ndarray) -> np.ndarray:
    """OpenCV world-to-camera (4, 4) of a camera at ``center`` looking at ``target`` (y down ~ world +y)."""
    z = target - center
    z = z / np.linalg.norm(z)
    x = np.cross([0.0, 1.0, 0.0], z)
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    w2c = np.eye(4)
    w2c[:3, :3] = np.stack([x, y, z])
    w2c[:3, 3] = -w2c[:3, :3] @ center
    return w2c


def source_camera(size: tuple[int, int], frames: int) -> CameraTrack:
    """A camera trucking right by 2 cm per frame, focal length 0.9 W."""
    W, H = size
    K = np.array([[0.9 * W, 0, (W - 1) / 2], [0, 0.9 * W, (H - 1) / 2], [0, 0, 1]])
    centers = [np.array([0.02 * t, 0.0, CAMERA_Z]) for t in range(frames)]
    w2c = np.stack([look_at_w2c(c, c + [0, 0, 1]) for c in centers])
    return CameraTrack(K=K, w2c=w2c, size=size, fps=24.0)


def orbit_camera(source: CameraTrack, degrees: float) -> CameraTrack:
    """``source`` orbited about the y axis through the backdrop centre, ramping to ``degrees``."""
    T = source.num_frames
    w2c = []
    for t in range(T):
        a = np.radians(degrees) * (t + 1) / T
        c = source.centers[t]
        center = np.array([c[0] * np.cos(a) + c[2] * np.sin(a), c[1], -c[0] * np.sin(a) + c[2] * np.cos(a)])
        w2c.append(look_at_w2c(center, np.array([0.0, 0.0, 0.0])))
    return CameraTrack(K=source.K, w2c=np.stack(w2c), size=source.size, fps=source.fps)


def _texture(x: np.ndarray, y: np.ndarray, front: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] of world points on the planes: smooth stripes plus fine detail."""
    r = 0.5 + 0.3 * np.sin(9 * x + 2 * y) + 0.15 * np.sin(31 * y)
    g = 0.5 + 0.3 * np.cos(7 * y - 3 * x) + 0.15 * np.cos(27 * x)
    b = np.where(front, 0.85, 0.25) + 0.1 * np.sin(19 * (x + y))
    return np.clip(np.stack([r, g, b], -1), 0, 1)


def render(camera: CameraTrack) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast frames (T, H, W, 3) uint8 and depth (T, H, W) float32 (camera z, metres)."""
    W, H = camera.size
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    pix = np.stack([u, v, np.ones_like(u)], -1)
    frames, depths = [], []
    for K, w2c in zip(camera.K, camera.w2c, strict=True):
        R, t = w2c[:3, :3], w2c[:3, 3]
        rays = pix @ np.linalg.inv(K).T @ R            # world directions for camera z = 1
        center = -R.T @ t
        s_back = (0.0 - center[2]) / rays[..., 2]
        s_front = (SQUARE_Z - center[2]) / rays[..., 2]
        hit = center + rays * s_front[..., None]
        front = (s_front > 0) & (np.abs(hit[..., 0]) <= SQUARE_HALF) & (np.abs(hit[..., 1]) <= SQUARE_HALF)
        s = np.where(front, s_front, s_back)
        p = center + rays * s[..., None]
        frames.append((_texture(p[..., 0], p[..., 1], front) * 255 + 0.5).astype(np.uint8))
        depths.append(s.astype(np.float32))
    return np.stack(frames), np.stack(depths)


def make_tracks(camera: CameraTrack, num_points: int, seed: int = 0) -> Tracks:
    """Static tracks: 75 % on the backdrop, 25 % on the square; vis from an exact occlusion test."""
    rng = np.random.default_rng(seed)
    n_front = num_points // 4
    back = np.column_stack([rng.uniform(-3.2, 3.2, num_points - n_front),
                            rng.uniform(-2.2, 2.2, num_points - n_front), np.zeros(num_points - n_front)])
    front = np.column_stack([rng.uniform(-SQUARE_HALF, SQUARE_HALF, (n_front, 2)), np.full(n_front, SQUARE_Z)])
    pts = np.concatenate([back, front])
    T = camera.num_frames
    xyz = np.broadcast_to(pts, (T, num_points, 3)).copy()
    uv, z = project_points(xyz, camera.K, camera.w2c)
    W, H = camera.size
    centers = camera.centers[:, None, :]
    # A backdrop point is hidden when its ray to the camera crosses the square.
    s = (SQUARE_Z - centers[..., 2]) / (xyz[..., 2] - centers[..., 2])
    cross = centers + (xyz - centers) * s[..., None]
    hidden = ((xyz[..., 2] == 0) & (np.abs(cross[..., 0]) <= SQUARE_HALF) & (np.abs(cross[..., 1]) <= SQUARE_HALF))
    inside = (uv[..., 0] >= -0.5) & (uv[..., 0] < W - 0.5) & (uv[..., 1] >= -0.5) & (uv[..., 1] < H - 0.5)
    vis = inside & (z > 0) & ~hidden
    rgb = (_texture(pts[:, 0], pts[:, 1], pts[:, 2] != 0) * 255).astype(np.uint8)
    return Tracks(xyz=xyz, uv=uv, vis=vis, conf=vis.astype(np.float32), rgb=rgb,
                  K=camera.K, w2c=camera.w2c, size=camera.size, fps=camera.fps)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR (dB) of uint8 images ``a`` vs ``b`` over the pixels where ``mask`` (…, H, W) is True."""
    err = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = err[mask].mean() if mask is not None else err.mean()
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def write_shot(root, size: tuple[int, int], frames: int, num_points: int) -> tuple[CameraTrack, Tracks]:
    """The shot of :func:`source_camera` on disk under ``root``: ``footage/`` (0000.png…), ``tracks.npz``
    (exact static tracks) and its camera as ``CAM.json``. Returns (camera, tracks)."""
    from track2view.engine.geometry.camera import save_camera_json
    from track2view.engine.io.tracks import save_tracks
    from track2view.engine.io.video import write_frames

    camera = source_camera(size, frames)
    write_frames(render(camera)[0], root / "footage", "{:04d}.png", start=0)
    tracks = make_tracks(camera, num_points, seed=0)
    save_tracks(tracks, root / "tracks.npz")
    save_camera_json(camera, root / "CAM.json")
    return camera, tracks
