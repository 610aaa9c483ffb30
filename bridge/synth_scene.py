"""Procedural synthetic scenes for ``t2v synth`` (bpy side).

:func:`build_scene` replaces the current file with a scene made only from ``spec``: a ground disc
and a cylindrical backdrop (radius :data:`STAGE_RADIUS`) with procedural textures (noise,
Voronoi, checker, brick and wave patterns mixed), 3–8 textured objects (primitives, some
bevelled, displaced or twisted), a sun, fill lights and a coloured world, and ``spec.cameras``
keyframed cameras (trajectories from :mod:`..engine.synth.trajectories`). Dynamic scenes keyframe
object paths and rotations and give at least one object a non-rigid deformation (Wave modifier or
an animated Simple Deform). Modifiers never change topology over time, so surface points can be
carried by (triangle, barycentric) pairs. Scene frames are ``0 .. spec.frames - 1``.

Every random choice comes from ``numpy.random.default_rng([spec.seed, stream])``: the same spec
gives the same scene.
"""

from __future__ import annotations

import colorsys
import dataclasses
import math

import bpy
import numpy as np

from ..engine.synth.presets import SynthSpec
from ..engine.synth.trajectories import SENSOR_MM, plan_shots
from .camera import keyframe_camera_from_track
from .compat import material_node_tree

SCENE_STREAM, CAMERA_STREAM = 1, 2    # independent RNG streams per seed
STAGE_RADIUS = 12.0                   # ground disc and backdrop cylinder, metres
BACKDROP_HEIGHT = 8.0
OBJECT_REGION = 2.6                   # objects are placed within this radius of the origin, metres
MIN_OBJECTS, MAX_OBJECTS = 3, 8
PRIMITIVES = ("cube", "uv_sphere", "ico_sphere", "cylinder", "cone", "torus", "monkey")
PATTERNS = ("noise", "voronoi", "checker", "brick", "wave")
NOISE_DETAIL = 4.0                    # fractal octaves of noise patterns: detail vs shading time
STAGE_TEXTURE_SCALE = (0.08, 0.2)     # texture coordinate scale per metre on ground/backdrop
OBJECT_TEXTURE_SCALE = (0.4, 1.0)     # ... per object bounding box (Generated coordinates)
MAX_BOUNCES = 2                       # Cycles light bounces: one indirect bounce is enough for footage


@dataclasses.dataclass
class SynthScene:
    """Handles into the built scene: ``background`` (ground, backdrop; object id 0), ``objects``
    (object id = index + 1), ``cameras`` (camera 0 = source), ``motions`` per camera, and a JSON-able
    description of objects and lights."""

    background: list[bpy.types.Object]
    objects: list[bpy.types.Object]
    cameras: list[bpy.types.Object]
    motions: list[str]
    object_info: list[dict]
    light_info: list[dict]


def _rgb(rng: np.random.Generator, lo: float = 0.05, hi: float = 0.9) -> tuple[float, float, float, float]:
    """A random RGBA colour: any hue, saturation 0.2–0.9, value in [lo, hi]."""
    hue, sat, val = rng.uniform(), rng.uniform(0.2, 0.9), rng.uniform(lo, hi)
    return (*colorsys.hsv_to_rgb(hue, sat, val), 1.0)


def _socket(sockets, identifier: str):
    return next(s for s in sockets if s.identifier == identifier)


def _pattern(nodes, links, rng: np.random.Generator, kind: str, vector):
    """A texture node of ``kind`` fed by ``vector``; returns its colour output."""
    if kind == "noise":
        tex = nodes.new("ShaderNodeTexNoise")
        tex.inputs["Scale"].default_value = rng.uniform(4, 14)
        tex.inputs["Detail"].default_value = NOISE_DETAIL
        tex.inputs["Roughness"].default_value = rng.uniform(0.5, 0.7)
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        links.new(tex.outputs["Fac"], _socket(mix.inputs, "Factor_Float"))
        _socket(mix.inputs, "A_Color").default_value = _rgb(rng)
        _socket(mix.inputs, "B_Color").default_value = _rgb(rng)
        out = _socket(mix.outputs, "Result_Color")
    elif kind == "voronoi":
        tex = nodes.new("ShaderNodeTexVoronoi")
        tex.inputs["Scale"].default_value = rng.uniform(5, 16)
        out = tex.outputs["Color"]
    elif kind == "checker":
        tex = nodes.new("ShaderNodeTexChecker")
        tex.inputs["Scale"].default_value = rng.uniform(4, 12)
        tex.inputs["Color1"].default_value = _rgb(rng)
        tex.inputs["Color2"].default_value = _rgb(rng)
        out = tex.outputs["Color"]
    elif kind == "brick":
        tex = nodes.new("ShaderNodeTexBrick")
        tex.inputs["Scale"].default_value = rng.uniform(3, 8)
        tex.inputs["Color1"].default_value = _rgb(rng)
        tex.inputs["Color2"].default_value = _rgb(rng)
        tex.inputs["Mortar"].default_value = _rgb(rng, 0.6, 0.95)
        out = tex.outputs["Color"]
    else:
        tex = nodes.new("ShaderNodeTexWave")
        tex.inputs["Scale"].default_value = rng.uniform(3, 9)
        tex.inputs["Distortion"].default_value = rng.uniform(2, 8)
        tex.inputs["Detail"].default_value = NOISE_DETAIL
        out = tex.outputs["Color"]
    links.new(vector, tex.inputs["Vector"])
    return out


def _textured_material(rng: np.random.Generator, name: str, coordinates: str, scale: float):
    """Principled material whose colour mixes two random patterns through a noise mask.

    ``coordinates`` 'Generated' (sticks to deforming meshes) or 'Object'; ``scale`` multiplies
    the texture coordinates (patterns per unit).
    """
    mat = bpy.data.materials.new(name)
    tree = material_node_tree(mat)
    nodes, links = tree.nodes, tree.links
    bsdf = nodes["Principled BSDF"]
    coord = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = (scale, scale, scale)
    mapping.inputs["Rotation"].default_value = rng.uniform(0, math.pi, 3).tolist()
    links.new(coord.outputs[coordinates], mapping.inputs["Vector"])
    vec = mapping.outputs["Vector"]
    first, second = rng.choice(PATTERNS, 2, replace=False)
    a = _pattern(nodes, links, rng, str(first), vec)
    b = _pattern(nodes, links, rng, str(second), vec)
    mask = nodes.new("ShaderNodeTexNoise")
    mask.inputs["Scale"].default_value = rng.uniform(1.5, 4)
    links.new(vec, mask.inputs["Vector"])
    mix = nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    links.new(mask.outputs["Fac"], _socket(mix.inputs, "Factor_Float"))
    links.new(a, _socket(mix.inputs, "A_Color"))
    links.new(b, _socket(mix.inputs, "B_Color"))
    links.new(_socket(mix.outputs, "Result_Color"), bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.3, 0.9)
    return mat


def _setup_render(scene: bpy.types.Scene, spec: SynthSpec) -> None:
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = spec.samples
    scene.cycles.use_denoising = spec.denoise
    if spec.denoise:
        scene.cycles.denoiser = "OPENIMAGEDENOISE"  # runs on the CPU
    scene.cycles.seed = spec.seed
    scene.cycles.use_animated_seed = True  # sampling noise changes per frame like sensor noise, not fixed to the screen
    scene.cycles.max_bounces = MAX_BOUNCES
    scene.cycles.diffuse_bounces = scene.cycles.glossy_bounces = MAX_BOUNCES - 1
    scene.cycles.transmission_bounces = scene.cycles.volume_bounces = 0
    scene.cycles.filter_width = 1.0
    scene.cycles.use_light_tree = False  # at most three lights: the tree costs ~15 % and gains nothing
    r.resolution_x, r.resolution_y = spec.size
    r.resolution_percentage = 100
    r.fps, r.fps_base = round(spec.fps), round(spec.fps) / spec.fps
    r.use_persistent_data = True
    scene.view_settings.view_transform = "Standard"
    scene.frame_start, scene.frame_end = 0, spec.frames - 1


def _add_primitive(kind: str, size: float):
    ops = bpy.ops.mesh
    if kind == "cube":
        ops.primitive_cube_add(size=2 * size)
    elif kind == "uv_sphere":
        ops.primitive_uv_sphere_add(radius=size, segments=32, ring_count=16)
    elif kind == "ico_sphere":
        ops.primitive_ico_sphere_add(radius=size, subdivisions=3)
    elif kind == "cylinder":
        ops.primitive_cylinder_add(radius=size * 0.7, depth=2 * size, vertices=32)
    elif kind == "cone":
        ops.primitive_cone_add(radius1=size, depth=2 * size, vertices=32)
    elif kind == "torus":
        ops.primitive_torus_add(major_radius=size, minor_radius=size * 0.35)
    else:
        ops.primitive_monkey_add(size=2 * size)
    return bpy.context.active_object


def _build_stage(scene: bpy.types.Scene, rng: np.random.Generator) -> list[bpy.types.Object]:
    bpy.ops.mesh.primitive_circle_add(radius=STAGE_RADIUS, vertices=64, fill_type="NGON")
    ground = bpy.context.active_object
    ground.name = "ground"
    ground.data.materials.append(_textured_material(rng, "ground", "Object", rng.uniform(*STAGE_TEXTURE_SCALE)))
    bpy.ops.mesh.primitive_cylinder_add(radius=STAGE_RADIUS, depth=BACKDROP_HEIGHT, vertices=64,
                                        end_fill_type="NOTHING", location=(0, 0, BACKDROP_HEIGHT / 2))
    backdrop = bpy.context.active_object
    backdrop.name = "backdrop"
    backdrop.data.materials.append(_textured_material(rng, "backdrop", "Object", rng.uniform(*STAGE_TEXTURE_SCALE)))
    return [ground, backdrop]


def _place(rng: np.random.Generator, taken: list[tuple[float, float, float]], radius: float) -> tuple[float, float]:
    """An (x, y) in the object region away from already placed objects (best effort)."""
    best, best_gap = (0.0, 0.0), -np.inf
    for _ in range(30):
        x, y = rng.uniform(-OBJECT_REGION, OBJECT_REGION, 2)
        gap = min((math.hypot(x - a, y - b) - r - radius for a, b, r in taken), default=np.inf)
        if gap > 0.1:
            return float(x), float(y)
        if gap > best_gap:
            best, best_gap = (float(x), float(y)), gap
    return best


def _modify(obj, rng: np.random.Generator, style: str) -> None:
    """Static shape modifiers that keep topology fixed over time."""
    if style == "bevel":
        mod = obj.modifiers.new("bevel", "BEVEL")
        mod.width = 0.08
        mod.segments = 2
    elif style in ("displace", "twist"):
        sub = obj.modifiers.new("subdivide", "SUBSURF")
        sub.levels = sub.render_levels = 1
        if style == "displace":
            tex = bpy.data.textures.new(f"{obj.name}_clouds", "CLOUDS")
            tex.noise_scale = rng.uniform(0.3, 0.8)
            mod = obj.modifiers.new("displace", "DISPLACE")
            mod.texture = tex
            mod.strength = rng.uniform(0.08, 0.2)
            mod.texture_coords = "LOCAL"
        else:
            mod = obj.modifiers.new("twist", "SIMPLE_DEFORM")
            mod.deform_method = "TWIST"
            mod.angle = math.radians(rng.uniform(30, 90))


def _animate_path(obj, rng: np.random.Generator, frames: int) -> None:
    """Keyframed path (3 keys) and rotation of a moving object."""
    start = np.array(obj.location)
    rot = np.array(obj.rotation_euler)
    keys = [0, (frames - 1) // 2, frames - 1]
    for i, frame in enumerate(keys):
        if i:
            step = rng.normal(0, 0.6, 3) * np.array([1, 1, 0.3 if start[2] > 1.0 else 0.0])
            obj.location = (start + step * i).tolist()
            obj.rotation_euler = (rot + np.array([0, 0, rng.uniform(-1.6, 1.6)]) * i / 2).tolist()
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_euler", frame=frame)


def _deform(obj, rng: np.random.Generator, frames: int) -> str:
    """A non-rigid deformation over time on a subdivided copy of the surface; returns its name."""
    sub = obj.modifiers.new("deform_density", "SUBSURF")
    sub.levels = sub.render_levels = 2
    if rng.uniform() < 0.5:
        wave = obj.modifiers.new("wave", "WAVE")
        wave.height = rng.uniform(0.08, 0.18)
        wave.width = rng.uniform(0.4, 0.9)
        wave.speed = rng.uniform(0.03, 0.08)
        wave.time_offset = 0.0
        return "wave"
    bend = obj.modifiers.new("bend", "SIMPLE_DEFORM")
    bend.deform_method = "BEND"
    bend.deform_axis = "Z"
    bend.angle = 0.0
    bend.keyframe_insert("angle", frame=0)
    bend.angle = math.radians(rng.uniform(40, 90)) * (1 if rng.uniform() < 0.5 else -1)
    bend.keyframe_insert("angle", frame=frames - 1)
    return "bend"


def _build_objects(scene: bpy.types.Scene, rng: np.random.Generator, spec: SynthSpec):
    count = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    dynamic = spec.kind == "dynamic"
    movers = set(rng.choice(count, max(1, count // 2), replace=False).tolist()) if dynamic else set()
    deformer = int(rng.integers(count)) if dynamic else -1
    objects, info, taken = [], [], []
    for i in range(count):
        kind = str(rng.choice(PRIMITIVES))
        size = float(rng.uniform(0.35, 0.85))
        obj = _add_primitive(kind, size)
        obj.name = f"object_{i + 1}_{kind}"
        floating = rng.uniform() < 0.25
        x, y = _place(rng, taken, size)
        taken.append((x, y, size))
        obj.rotation_euler = (0.0, 0.0, float(rng.uniform(0, 2 * math.pi)))
        obj.location = (x, y, size + (rng.uniform(0.6, 1.6) if floating else 0.0))
        style = str(rng.choice(["plain", "bevel", "displace", "twist"]))
        _modify(obj, rng, style)
        obj.data.materials.append(_textured_material(rng, obj.name, "Generated", rng.uniform(*OBJECT_TEXTURE_SCALE)))
        deformation = _deform(obj, rng, spec.frames) if i == deformer else ""
        if i in movers:
            _animate_path(obj, rng, spec.frames)
        objects.append(obj)
        info.append({"id": i + 1, "name": obj.name, "primitive": kind, "modifier": style,
                     "moves": i in movers, "deformation": deformation})
    return objects, info


def _build_lights(scene: bpy.types.Scene, rng: np.random.Generator) -> list[dict]:
    world = bpy.data.worlds.new("world")
    scene.world = world
    world_tree = material_node_tree(world)
    background = world_tree.nodes["Background"]
    background.inputs["Color"].default_value = _rgb(rng, 0.2, 0.8)
    background.inputs["Strength"].default_value = rng.uniform(0.2, 0.8)
    info = []
    sun = bpy.data.lights.new("sun", "SUN")
    sun.energy = rng.uniform(1.5, 4.5)
    sun.angle = math.radians(rng.uniform(0.5, 10))
    sun.color = rng.uniform(0.85, 1.0, 3).tolist()
    sun_obj = bpy.data.objects.new("sun", sun)
    sun_obj.rotation_euler = (math.radians(rng.uniform(20, 60)), 0.0, rng.uniform(0, 2 * math.pi))
    scene.collection.objects.link(sun_obj)
    info.append({"type": "SUN", "energy": sun.energy})
    for i in range(int(rng.integers(0, 3))):
        light = bpy.data.lights.new(f"fill_{i}", "POINT")
        light.energy = rng.uniform(200, 1200)
        light.shadow_soft_size = rng.uniform(0.2, 1.0)
        light.color = rng.uniform(0.7, 1.0, 3).tolist()
        obj = bpy.data.objects.new(f"fill_{i}", light)
        angle = rng.uniform(0, 2 * math.pi)
        obj.location = (5 * math.cos(angle), 5 * math.sin(angle), rng.uniform(2.5, 6))
        scene.collection.objects.link(obj)
        info.append({"type": "POINT", "energy": light.energy})
    return info


def _build_cameras(scene: bpy.types.Scene, spec: SynthSpec):
    rng = np.random.default_rng([spec.seed, CAMERA_STREAM])
    shots = plan_shots(rng, spec.cameras, spec.frames, spec.shared_first_frame)
    cameras = []
    for k, shot in enumerate(shots):
        data = bpy.data.cameras.new(f"cam{k}")
        data.sensor_fit = "AUTO"
        data.sensor_width = SENSOR_MM
        data.clip_start, data.clip_end = 0.05, 4 * STAGE_RADIUS
        obj = bpy.data.objects.new(f"cam{k}", data)
        scene.collection.objects.link(obj)
        keyframe_camera_from_track(scene, obj, shot.camera(spec.size, spec.fps), frame_start=0,
                                   set_resolution=True)
        cameras.append(obj)
    return cameras, [shot.motion for shot in shots]


def build_scene(spec: SynthSpec) -> SynthScene:
    """Reset Blender to an empty file and build the scene of ``spec`` in it (see module docstring)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    rng = np.random.default_rng([spec.seed, SCENE_STREAM])
    _setup_render(scene, spec)
    background = _build_stage(scene, rng)
    objects, object_info = _build_objects(scene, rng, spec)
    light_info = _build_lights(scene, rng)
    cameras, motions = _build_cameras(scene, spec)
    scene.camera = cameras[0]
    scene.frame_set(0)
    return SynthScene(background=background, objects=objects, cameras=cameras, motions=motions,
                      object_info=object_info, light_info=light_info)
