"""Dense, long 2D point tracks by chaining OpenCV DIS optical flow.

Every frame pair gets a forward and a backward flow field. A point moves with the forward flow; if
the backward flow does not bring it back within :data:`FB_TOLERANCE_PX` (+ a share of the motion),
it is occluded or lost and its track ends there (tracks never resume). After each step, grid cells
with no live point are re-seeded at their best-textured pixel, until the point budget is spent; the
budget is ``max_points`` for the first :data:`BUDGET_FRAMES` frames and grows with the shot after
them (up to :data:`MAX_BUDGET_FACTOR` times), so the late frames of a long shot keep getting new
points as old ones leave the view; once it stops growing, the frames left with few points are named
(:func:`starved_frames`), as are the frames to which almost no track carries over: cuts
(:func:`cut_frames`). With ``fill_flat`` the cells of a coarser grid
(:data:`FILL_CELL_FACTOR`) that are still empty get a point at their centre too, from a budget of
their own (:data:`FILL_SHARE`): a plain wall is then tracked by the flow's smooth fill-in, good
enough to render it, not to solve a camera with; ``textured`` tells the two kinds apart. Pixel
coordinates are those of the frames passed in: (0, 0) is the centre of the top-left pixel.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..frame_ranges import format_frame_ranges, frame_ranges
from ..jobs import Progress

FB_TOLERANCE_PX = 0.75  # forward-backward round trip allowed, pixels of the tracked frames
FB_RELATIVE = 0.05  # ... plus this share of the point's motion between the two frames
MIN_TEXTURE = 1e-4  # smallest cv2.cornerMinEigenVal (grey in [0, 1]) of a textured point
BORDER_PX = 2  # seeds and tracks keep this far from the image border
MIN_TRACK_FRAMES = 3  # shorter tracks are dropped
LIVE_SHARE = 0.5  # share of the point budget seeded in the first frame; the rest re-seeds
FILL_CELL_FACTOR = 2  # fill_flat: grid cells this many times the textured grid's, per side
FILL_SHARE = 0.25  # fill_flat: points on plain surfaces, as a share of max_points, on top of them
BUDGET_FRAMES = 50  # the point budget (max_points) covers this many frames; it grows as longer shots go on
MAX_BUDGET_FACTOR = 4  # ... up to this many times max_points in all (memory: the tracks are (T, N) arrays)
STARVED_SHARE = 0.05  # after the budget is spent, frames with fewer live textured tracks than this share of
                      # max_points are named in the tracker's warning (their camera may drift)
CUT_SURVIVAL = 0.3  # a frame to which fewer than this share of the live textured tracks carry over is a cut
                    # (footage: at least 0.79 on the sample and bench clips; a cut: 0.05)
CUT_MIN_TRACKS = 50  # ... judged only where at least this many were live
LK_WINDOW = 11  # Lucas–Kanade window (pixels) refining each flow step
LK_MAX_SHIFT_PX = 2.0  # larger LK corrections are not trusted: keep the flow's position
PREFILTER_SIGMA_PX = 1.0  # Gaussian blur before flow: pixel noise (worst: a noise pattern fixed to the
                          # screen, as renders without an animated seed have) otherwise pulls flow to zero
DIS_PRESET = "fast"  # 'ultrafast' | 'fast' | 'medium'


@dataclasses.dataclass
class FlowTracks:
    """2D tracks: ``uv`` (T, N, 2) float32 pixels, ``vis`` (T, N) bool, ``conf`` (T, N) float32 in [0, 1];
    ``textured`` (N,) bool: the track starts where the image has corner texture (:data:`MIN_TEXTURE`);
    ``query_index`` (M,) the tracks of the query points, if any were given; ``budget_spent`` the first
    frame at which textured image cells without a point got none because the point budget was spent
    for good (:func:`point_budget` at its cap), None if that never happened.

    Invisible entries keep the last known position (before the first visible frame: the first).
    """

    uv: np.ndarray
    vis: np.ndarray
    conf: np.ndarray
    textured: np.ndarray
    query_index: np.ndarray | None = None
    budget_spent: int | None = None

    @property
    def num_points(self) -> int:
        return self.uv.shape[1]

    @property
    def live_textured(self) -> np.ndarray:
        """(T,) textured tracks visible in each frame."""
        return self.vis[:, self.textured].sum(1)


def _dis(cv2):
    preset = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
              "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}[DIS_PRESET]
    return cv2.DISOpticalFlow_create(preset)


def _sample(cv2, field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``field`` (H, W, C) at ``pts`` (M, 2) → (M, C)."""
    if len(pts) == 0:
        return np.zeros((0, field.shape[2]), np.float32)
    m = np.ascontiguousarray(pts.reshape(-1, 1, 2).astype(np.float32))
    out = cv2.remap(field, m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(len(pts), -1)


def _texture(cv2, grey: np.ndarray) -> np.ndarray:
    """(H, W) corner strength (``cv2.cornerMinEigenVal`` of grey in [0, 1]), 0 within :data:`BORDER_PX`."""
    eig = cv2.cornerMinEigenVal(grey.astype(np.float32) / 255.0, 3)
    eig[:BORDER_PX] = eig[-BORDER_PX:] = 0
    eig[:, :BORDER_PX] = eig[:, -BORDER_PX:] = 0
    return eig


def _seeds(texture: np.ndarray, occupied: np.ndarray, cell: int, budget: int) -> np.ndarray:
    """Best-textured pixel (M, 2) of each free cell whose texture passes :data:`MIN_TEXTURE`."""
    if budget <= 0:
        return np.zeros((0, 2), np.float32)
    gh, gw = occupied.shape
    block = texture[:gh * cell, :gw * cell].reshape(gh, cell, gw, cell).transpose(0, 2, 1, 3).reshape(gh, gw, -1)
    best = block.argmax(-1)
    score = np.take_along_axis(block, best[..., None], -1)[..., 0]
    free = (~occupied) & (score > MIN_TEXTURE)
    gy, gx = np.nonzero(free)
    if len(gy) > budget:
        keep = np.argsort(-score[gy, gx])[:budget]
        gy, gx = gy[keep], gx[keep]
    b = best[gy, gx]
    return np.stack([gx * cell + b % cell, gy * cell + b // cell], -1).astype(np.float32)


def _fill_seeds(occupied: np.ndarray, cell: int, budget: int) -> np.ndarray:
    """Centres (M, 2) of up to ``budget`` free cells (plain surfaces: no texture to prefer)."""
    gy, gx = np.nonzero(~occupied)
    gy, gx = gy[:max(0, budget)], gx[:max(0, budget)]
    return np.stack([gx * cell + cell // 2, gy * cell + cell // 2], -1).astype(np.float32)


def _refine(cv2, a: np.ndarray, b: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Lucas–Kanade refinement of positions ``q`` in ``b`` of points ``p`` in ``a`` (DIS flow is smooth
    and underestimates motion by ~1 %, which chaining turns into drift). Keeps ``q`` where LK fails."""
    if len(p) == 0:
        return q
    out, status, _ = cv2.calcOpticalFlowPyrLK(a, b, p.reshape(-1, 1, 2), q.reshape(-1, 1, 2).copy(),
                                              winSize=(LK_WINDOW, LK_WINDOW), maxLevel=1,
                                              flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
                                              criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 10, 0.01))
    out = out.reshape(-1, 2)
    ok = status.ravel().astype(bool) & (np.linalg.norm(out - q, axis=1) < LK_MAX_SHIFT_PX)
    return np.where(ok[:, None], out, q)


def point_budget(max_points: int, t: int) -> int:
    """Textured points that may have been seeded by frame ``t`` (0-based) of a shot: ``max_points``
    within the first :data:`BUDGET_FRAMES` frames, then ``max_points`` more per :data:`BUDGET_FRAMES`
    frames, at most :data:`MAX_BUDGET_FACTOR` × ``max_points``."""
    return int(max_points * min(MAX_BUDGET_FACTOR, max(1.0, (t + 1) / BUDGET_FRAMES)))


def _occupancy(pts: np.ndarray, shape: tuple[int, int], cell: int) -> np.ndarray:
    occ = np.zeros(shape, bool)
    if len(pts):
        ix = np.clip((pts[:, 0] / cell).astype(int), 0, shape[1] - 1)
        iy = np.clip((pts[:, 1] / cell).astype(int), 0, shape[0] - 1)
        occ[iy, ix] = True
    return occ


def track_flow(frames: np.ndarray, max_points: int, progress: Progress | None = None,
               queries: np.ndarray | None = None, fill_flat: bool = False) -> FlowTracks:
    """Track points through ``frames`` (T, H, W, 3) uint8 RGB; at most ``max_points`` seeded textured
    tracks per :data:`BUDGET_FRAMES` frames (:func:`point_budget`; and ``FILL_SHARE`` times as many on
    plain surfaces with ``fill_flat``).

    ``queries`` (M, 3) rows ``[t, x, y]`` (frame index, pixels) are tracked too, from their frame
    on, and kept however short; ``FlowTracks.query_index`` (M,) gives their tracks.
    """
    import cv2

    T, h, w = frames.shape[:3]
    cell = max(4, int(np.sqrt(h * w / max(1, max_points * LIVE_SHARE))))
    grid = (h // cell, w // cell)
    fill_cell = FILL_CELL_FACTOR * cell
    fill_grid = (h // fill_cell, w // fill_cell)
    fill_share = FILL_SHARE if fill_flat else 0.0
    greys = [cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (0, 0), PREFILTER_SIGMA_PX) for f in frames]
    dis = _dis(cv2)
    queries = np.zeros((0, 3)) if queries is None else np.asarray(queries, np.float64).reshape(-1, 3)
    capacity = point_budget(max_points, T - 1) + int(fill_share * point_budget(max_points, T - 1)) + len(queries)
    uv = np.zeros((T, capacity, 2), np.float32)
    vis = np.zeros((T, capacity), bool)
    conf = np.zeros((T, capacity), np.float32)
    textured = np.zeros(capacity, bool)
    query_index = np.zeros(len(queries), int)
    count = seeded = filled = 0
    budget_spent = None

    def add(t: int, pts: np.ndarray, is_textured: np.ndarray | bool) -> np.ndarray:
        nonlocal count
        idx = np.arange(count, count + len(pts))
        uv[t, idx], vis[t, idx], conf[t, idx] = pts, True, 1.0
        textured[idx] = is_textured
        count += len(pts)
        return idx

    def seed(t: int, live_pts: np.ndarray, budget: int) -> np.ndarray:
        nonlocal seeded, filled, budget_spent
        texture = _texture(cv2, greys[t])
        mine = np.nonzero(np.round(queries[:, 0]) == t)[0]
        at = queries[mine, 1:].astype(np.float32)
        q_idx = add(t, at, _sample(cv2, texture[..., None], at)[:, 0] > MIN_TEXTURE)
        query_index[mine] = q_idx
        taken = np.concatenate([live_pts, at])
        allowed = point_budget(max_points, t)
        occupied = _occupancy(taken, grid, cell)
        new = _seeds(texture, occupied, cell, min(budget, allowed - seeded))
        if (budget_spent is None and allowed >= MAX_BUDGET_FACTOR * max_points and allowed - seeded < budget
                and len(_seeds(texture, occupied, cell, budget)) > len(new)):
            budget_spent = t  # for good: the budget has stopped growing
        seeded += len(new)
        fill = _fill_seeds(_occupancy(np.concatenate([taken, new]), fill_grid, fill_cell), fill_cell,
                           int(fill_share * allowed) - filled)
        filled += len(fill)
        return np.concatenate([q_idx, add(t, new, True), add(t, fill, False)])

    live = seed(0, np.zeros((0, 2)), int(max_points * LIVE_SHARE))
    for t in range(T - 1):
        fwd = dis.calc(greys[t], greys[t + 1], None)
        bwd = dis.calc(greys[t + 1], greys[t], None)
        p = uv[t, live]
        q = _refine(cv2, greys[t], greys[t + 1], p, p + _sample(cv2, fwd, p))
        back = q + _sample(cv2, bwd, q)
        err = np.linalg.norm(back - p, axis=1)
        tol = FB_TOLERANCE_PX + FB_RELATIVE * np.linalg.norm(q - p, axis=1)
        inside = ((q[:, 0] >= BORDER_PX) & (q[:, 0] <= w - 1 - BORDER_PX)
                  & (q[:, 1] >= BORDER_PX) & (q[:, 1] <= h - 1 - BORDER_PX))
        ok = (err < tol) & inside
        live = live[ok]
        uv[t + 1, live], vis[t + 1, live] = q[ok], True
        conf[t + 1, live] = np.exp(-err[ok] / FB_TOLERANCE_PX)
        live = np.concatenate([live, seed(t + 1, q[ok], max_points)])
        if progress is not None:
            progress((t + 1) / (T - 1), f"optical flow {t + 1}/{T - 1}")
    keep = vis[:, :count].sum(0) >= min(MIN_TRACK_FRAMES, T)
    keep[query_index] = True
    new_index = np.cumsum(keep) - 1
    uv, vis, conf = uv[:, :count][:, keep], vis[:, :count][:, keep], conf[:, :count][:, keep]
    return FlowTracks(uv=fill_invisible(uv, vis), vis=vis, conf=conf, textured=textured[:count][keep],
                      query_index=new_index[query_index], budget_spent=budget_spent)


def starved_frames(flow: FlowTracks, max_points: int) -> np.ndarray:
    """(T,) bool: the frames after the point budget was spent (``flow`` tracked with ``max_points``) that
    keep fewer than :data:`STARVED_SHARE` × ``max_points`` live textured tracks: no new points replace
    those that leave the view, so the camera there rests on ever fewer of them."""
    live = flow.live_textured
    if flow.budget_spent is None:
        return np.zeros(len(live), bool)
    return (np.arange(len(live)) > flow.budget_spent) & (live < STARVED_SHARE * max_points)


def starved_frames_warning(flow: FlowTracks, max_points: int, frame_start: int = 0) -> str | None:
    """The artist's warning about the :func:`starved_frames` of ``flow`` (tracked with ``max_points``;
    frame i numbered ``frame_start + i``), or None."""
    starved = starved_frames(flow, max_points)
    if not starved.any():
        return None
    live = flow.live_textured
    first = frame_start + flow.budget_spent
    return (f"the tracker's point budget ({max_points} points per {BUDGET_FRAMES} frames, at most "
            f"{MAX_BUDGET_FACTOR * max_points}: --max-points) ran out at frame {first}; frames "
            f"{format_frame_ranges(frame_ranges(starved, frame_start))} keep as few as {int(live[starved].min())} "
            f"tracks, so their camera may drift: track the shot in parts that end near frame {first} (--frames)")


def cut_frames(flow: FlowTracks) -> list[int]:
    """Frames (0-based) to which fewer than :data:`CUT_SURVIVAL` of the frame before's live textured
    tracks carry over (with at least :data:`CUT_MIN_TRACKS` of them): a cut in the footage, or a flash
    or a blur so strong that the tracks break there."""
    v = flow.vis[:, flow.textured]
    live = v[:-1].sum(1)
    kept = (v[:-1] & v[1:]).sum(1)
    return [int(t) + 1 for t in np.nonzero((live >= CUT_MIN_TRACKS) & (kept < CUT_SURVIVAL * live))[0]]


def cut_frames_warning(cuts: list[int], frame_start: int = 0) -> str | None:
    """The artist's warning about the :func:`cut_frames` ``cuts`` (frame i numbered ``frame_start + i``), or None."""
    if not cuts:
        return None
    named = ", ".join(str(frame_start + t) for t in cuts)
    return (f"frame{'s' if len(cuts) > 1 else ''} {named}: almost no tracked point carries over from the frame "
            f"before (a cut, or a flash or blur that breaks the tracks); one reconstruction needs one continuous "
            f"shot, so the camera after it may not line up with the camera before it: track each part apart (--frames)")


def fill_invisible(uv: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """Hold the last visible position forward, and the first one backward."""
    T = len(uv)
    idx = np.where(vis, np.arange(T)[:, None], 0)
    idx = np.maximum.accumulate(idx, axis=0)
    first = vis.argmax(0)
    idx = np.where(np.arange(T)[:, None] < first[None], first[None], idx)
    return np.take_along_axis(uv, idx[..., None], 0)
