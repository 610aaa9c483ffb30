"""Render one synthetic clip and its ground-truth tracks with Blender: the ``synth-render`` job of ``t2v synth``.

``t2v synth`` runs the job in a worker subprocess (``engine/worker.py``), so the engine never imports
bpy; its settings are the clip's spec (JSON) and ``out``, a folder. It builds the scene of the spec
(:mod:`.synth_scene`), renders every camera with Cycles on the CPU and writes into ``OUT_DIR``:

- ``cam<k>/rgb/0000.png …`` RGB frames (scene frame t → ``{t:04d}.png``);
- ``cam<k>/depth.npy`` (T, H, W) float32 camera-space z in metres from Cycles' Depth pass (Cycles
  writes the z distance along the view axis, not the ray length; 1e10 where nothing is hit);
- ``raw/gt.npz``: ``xyz`` (T, N, 3) float64 world positions of the N surface points, ``object_id``
  (N,), ``K`` (C, T, 3, 3) and ``w2c`` (C, T, 4, 4) read back from the Blender cameras
  (:func:`.camera.camera_track_from_blender`), ``vis_raycast`` (C, T, N) geometric visibility
  (in the image and no surface between camera and point, by ``Scene.ray_cast``);
- ``raw/scene.json``: camera motions, objects, lights, Blender version.

Points: :data:`OBJECT_POINT_SHARE` of them are spread over the objects' evaluated surfaces by area
at frame 0, as (triangle, barycentric) pairs re-evaluated on the deformed mesh every frame; the
rest lie on the ground/backdrop where random pixels of the cameras look at it.
The engine (:func:`..engine.synth.clip.finish_clip`) turns this into the final clip.
The compositor differs between Blender versions (node group vs the scene's node tree, File Output
items vs slots): it is reached through :mod:`.compat`, so the worker runs on bpy 4.2, 4.5 and 5.0.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import bpy
import numpy as np

from ..engine.geometry.camera import CameraTrack, project_points
from ..engine.jobs import Progress, job
from ..engine.synth.presets import SynthSpec
from .camera import camera_tracks_from_blender
from .compat import new_compositor_tree, new_file_output, set_file_output_folder, set_output_format
from .synth_scene import SynthScene, build_scene

POINT_STREAM = 3                # RNG stream of point sampling (see synth_scene streams)
OBJECT_POINT_SHARE = 0.5        # share of the N points placed on objects (rest on ground/backdrop)
RAYS_PER_BACKGROUND_POINT = 8   # attempts per wanted background point before giving up
OCCLUSION_MARGIN = 1e-3         # a surface closer than (1 - this) × distance − this (m) occludes a point


def _mesh_triangles(obj, depsgraph) -> tuple[np.ndarray, np.ndarray]:
    """Evaluated mesh of ``obj``: world vertex positions (V, 3) and triangles (F, 3) vertex indices."""
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        mesh.calc_loop_triangles()
        co = np.empty(len(mesh.vertices) * 3)
        mesh.vertices.foreach_get("co", co)
        tris = np.empty(len(mesh.loop_triangles) * 3, np.int64)
        mesh.loop_triangles.foreach_get("vertices", tris)
    finally:
        evaluated.to_mesh_clear()
    M = np.array(evaluated.matrix_world)
    return co.reshape(-1, 3) @ M[:3, :3].T + M[:3, 3], tris.reshape(-1, 3)


class SurfacePoints:
    """Points on object surfaces, carried by their (deformed, moving) evaluated meshes.

    Sampled at the current frame by area over all objects; ``evaluate`` gives world xyz (n, 3) at
    the depsgraph's frame. Raises RuntimeError if a mesh's topology changed (a bug in the scene).
    """

    def __init__(self, objects, depsgraph, count: int, rng: np.random.Generator):
        self.objects = objects
        meshes = [_mesh_triangles(obj, depsgraph) for obj in objects]
        self.topology = [(len(v), len(t)) for v, t in meshes]
        areas = []
        for verts, tris in meshes:
            a, b, c = (verts[tris[:, j]] for j in range(3))
            areas.append(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1))
        owner = np.concatenate([np.full(len(a), i) for i, a in enumerate(areas)])
        local = np.concatenate([np.arange(len(a)) for a in areas])
        weights = np.concatenate(areas)
        pick = rng.choice(len(weights), count, p=weights / weights.sum())
        r1, r2 = np.sqrt(rng.uniform(size=count)), rng.uniform(size=count)
        self.bary = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], -1)
        self.owner, self.triangle = owner[pick], local[pick]
        self.tris = [t for _, t in meshes]

    @property
    def object_id(self) -> np.ndarray:
        return self.owner + 1

    def evaluate(self, depsgraph) -> np.ndarray:
        xyz = np.zeros((len(self.owner), 3))
        for i, obj in enumerate(self.objects):
            sel = self.owner == i
            if not sel.any():
                continue
            verts, tris = _mesh_triangles(obj, depsgraph)
            if (len(verts), len(tris)) != self.topology[i]:
                raise RuntimeError(f"{obj.name}: evaluated topology changed over time")
            corners = verts[tris[self.triangle[sel]]]  # (n, 3 corners, 3)
            xyz[sel] = np.einsum("nc,ncd->nd", self.bary[sel], corners)
        return xyz


def _pixel_rays(K_inv: np.ndarray, c2w: np.ndarray, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre (3,) and unit world directions (n, 3) through pixels ``uv`` (n, 2) of a camera
    with inverse intrinsics ``K_inv`` (3, 3) and camera-to-world ``c2w`` (4, 4), OpenCV axes."""
    rays = np.concatenate([uv, np.ones((len(uv), 1))], 1) @ K_inv.T
    dirs = rays @ c2w[:3, :3].T
    return c2w[:3, 3], dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def _background_points(scene, synth: SynthScene, cams: list[CameraTrack], count: int,
                       rng: np.random.Generator) -> np.ndarray:
    """(n ≤ count, 3) static points on the ground/backdrop seen through random camera pixels."""
    names = {obj.name for obj in synth.background}
    T = cams[0].num_frames
    views = [(k, t) for k in range(len(cams)) for t in sorted({0, T // 2, T - 1})]
    quotas = np.bincount(np.arange(count) % len(views), minlength=len(views))
    points = []
    for (k, t), quota in zip(views, quotas, strict=True):
        scene.frame_set(t)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        w, h = cams[k].size
        K_inv, c2w = np.linalg.inv(cams[k].K[t]), np.linalg.inv(cams[k].w2c[t])
        found = 0
        for _ in range(quota * RAYS_PER_BACKGROUND_POINT):
            if found == quota:
                break
            uv = rng.uniform([-0.5, -0.5], [w - 0.5, h - 0.5], (1, 2))
            origin, direction = _pixel_rays(K_inv, c2w, uv)
            hit, location, _, _, obj, _ = scene.ray_cast(depsgraph, origin.tolist(), direction[0].tolist())
            if hit and obj.name in names:
                points.append(tuple(location))
                found += 1
    return np.array(points, float).reshape(-1, 3)


def _raycast_visibility(scene, depsgraph, cam: CameraTrack, t: int, xyz: np.ndarray) -> np.ndarray:
    """(N,) bool: in the image at frame t and no surface between the camera and the point."""
    uv, z = project_points(xyz[None], cam.K[t:t + 1], cam.w2c[t:t + 1])
    uv, z = uv[0], z[0]
    w, h = cam.size
    col, row = np.rint(uv[:, 0]), np.rint(uv[:, 1])
    inside = (z > 0) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    center = np.linalg.inv(cam.w2c[t])[:3, 3]
    vis = np.zeros(len(xyz), bool)
    for i in np.nonzero(inside)[0]:
        d = xyz[i] - center
        dist = float(np.linalg.norm(d))
        limit = dist * (1 - OCCLUSION_MARGIN) - OCCLUSION_MARGIN
        hit = scene.ray_cast(depsgraph, center.tolist(), (d / dist).tolist(), distance=max(limit, 0.0))[0]
        vis[i] = not hit
    return vis


def _depth_output(scene, folder: Path):
    """Compositor File Output node writing the Depth pass as float32 EXR into ``folder``."""
    scene.view_layers[0].use_pass_z = True
    tree = new_compositor_tree(scene, "synth_depth")
    layers = tree.nodes.new("CompositorNodeRLayers")
    out = new_file_output(tree, str(folder), "depth")
    set_output_format(out.format, "OPEN_EXR")
    out.format.color_depth = "32"
    tree.links.new(layers.outputs["Depth"], out.inputs[0])
    return out


def _read_depth(files: list[Path], size: tuple[int, int]) -> np.ndarray:
    """(T, H, W) float32 from single-channel EXRs (Blender stores rows bottom-up)."""
    w, h = size
    depth = np.empty((len(files), h, w), np.float32)
    for t, path in enumerate(files):
        image = bpy.data.images.load(str(path))
        try:
            image.colorspace_settings.name = "Non-Color"
            pixels = np.empty(w * h * image.channels, np.float32)
            image.pixels.foreach_get(pixels)
            depth[t] = pixels.reshape(h, w, image.channels)[::-1, :, 0]
        finally:
            bpy.data.images.remove(image)
    return depth


def render_views(scene, synth: SynthScene, out: Path, spec: SynthSpec) -> None:
    """Render every camera's frames (PNG) and depth (``depth.npy``) into ``out/cam<k>/``."""
    image = scene.render.image_settings
    set_output_format(image, "PNG")
    image.color_mode, image.color_depth, image.compression = "RGB", "8", 15
    raw_depth = out / "raw" / "depth"
    depth_node = _depth_output(scene, raw_depth)
    for k, cam_obj in enumerate(synth.cameras):
        scene.camera = cam_obj
        cam_dir = out / f"cam{k}"
        scene.render.filepath = str(cam_dir / "rgb") + "/"
        set_file_output_folder(depth_node, str(raw_depth / f"cam{k}"))
        bpy.ops.render.render(animation=True)
        files = sorted((raw_depth / f"cam{k}").glob("*.exr"))
        if len(files) != spec.frames:
            raise RuntimeError(f"camera {k}: expected {spec.frames} depth files, Blender wrote {len(files)}")
        np.save(cam_dir / "depth.npy", _read_depth(files, spec.size))


def ground_truth(scene, synth: SynthScene, spec: SynthSpec) -> dict[str, np.ndarray]:
    """World xyz of the N points per frame, object ids, cameras and ray-cast visibility."""
    cams = camera_tracks_from_blender(scene, synth.cameras, range(spec.frames))
    rng = np.random.default_rng([spec.seed, POINT_STREAM])
    scene.frame_set(0)
    n_objects = int(round(spec.points * OBJECT_POINT_SHARE))
    surface = SurfacePoints(synth.objects, bpy.context.evaluated_depsgraph_get(), n_objects, rng)
    background = _background_points(scene, synth, cams, spec.points - n_objects, rng)
    object_id = np.concatenate([surface.object_id, np.zeros(len(background), np.int64)])
    T, C, N = spec.frames, len(cams), len(object_id)
    xyz = np.empty((T, N, 3))
    vis = np.zeros((C, T, N), bool)
    for t in range(T):
        scene.frame_set(t)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        xyz[t] = np.concatenate([surface.evaluate(depsgraph), background])
        for k, cam in enumerate(cams):
            vis[k, t] = _raycast_visibility(scene, depsgraph, cam, t, xyz[t])
    scene.frame_set(0)
    return {"xyz": xyz, "object_id": object_id.astype(np.int32), "K": np.stack([c.K for c in cams]),
            "w2c": np.stack([c.w2c for c in cams]), "vis_raycast": vis}


def render_clip(spec: SynthSpec, out: Path, progress: Progress | None = None) -> None:
    """Build, render and write the raw clip of ``spec`` into ``out`` (see the module docstring)."""
    progress = Progress.of(progress)
    progress(0.0, "building the scene")
    synth = build_scene(spec)
    scene = bpy.context.scene
    (out / "raw").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    progress(0.05, "ground-truth tracks")
    gt = ground_truth(scene, synth, spec)
    np.savez(out / "raw" / "gt.npz", **gt)
    middle = time.perf_counter()
    progress(0.2, "rendering with Cycles")
    render_views(scene, synth, out, spec)
    info = {"motions": synth.motions, "objects": synth.object_info, "lights": synth.light_info,
            "blender": bpy.app.version_string,
            "seconds_tracks": round(middle - start, 2), "seconds_render": round(time.perf_counter() - middle, 2)}
    (out / "raw" / "scene.json").write_text(json.dumps(info, indent=1))


@dataclasses.dataclass(frozen=True)
class SynthRenderParams:
    """The ``synth-render`` job: ``spec`` (:meth:`SynthSpec.to_json`) and the clip folder ``out``."""

    spec: dict
    out: str


@job("synth-render", SynthRenderParams)
def synth_render_job(params: SynthRenderParams, progress: Progress) -> dict:
    """Render the raw clip of ``params.spec`` into ``params.out``; its render timings."""
    render_clip(SynthSpec.from_json(params.spec), Path(params.out), progress)
    progress(1.0, "rendered")
    return json.loads((Path(params.out) / "raw" / "scene.json").read_text())
