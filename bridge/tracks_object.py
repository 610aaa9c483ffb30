"""The point-cloud object of a shot's 3D tracks, animated without Python frame handlers.

Layout: the object's mesh holds T × N vertices, vertex ``t * N + n`` at ``xyz[t, n]`` (world
coordinates; the object stays at the identity transform) with colour attribute ``track_rgb``
(the track's footage colour) and float ``track_visible``. Its Geometry Nodes modifier
(:data:`NODE_GROUP`) makes N points and moves point n to vertex ``t * N + n`` with
``t = clamp(scene frame − Frame Start, 0, Frames − 1)`` (Scene Time + Sample Index), so it plays
back in the viewport and renders in ``blender -b`` from data saved in the .blend. Output points
carry ``rgb`` (colour) and ``visible`` (1 where the footage sees the track at that frame), and
the material :data:`MATERIAL` shows ``rgb``. Sample Index makes a frame O(N), so 20k tracks ×
100 frames play back in real time.
"""

from __future__ import annotations

import bpy
import numpy as np

from ..engine.io.tracks import Tracks
from .compat import material_node_tree

NODE_GROUP = "Track2View Tracks"
MATERIAL = "Track2View Track Colour"
POINT_RADIUS = 0.01  # Blender units, default display/render radius of a track point
_INPUTS = (("Frame Start", "NodeSocketInt"), ("Frames", "NodeSocketInt"), ("Points", "NodeSocketInt"),
           ("Radius", "NodeSocketFloat"))


def _math(nodes, links, op, a, b=None, c=None):
    node = nodes.new("ShaderNodeMath")
    node.operation = op
    for socket, value in zip(node.inputs, (a, b, c), strict=False):
        if value is None:
            continue
        if isinstance(value, bpy.types.NodeSocket):
            links.new(value, socket)
        else:
            socket.default_value = value
    return node.outputs[0]


def _sample(nodes, links, geometry, value, index, data_type):
    node = nodes.new("GeometryNodeSampleIndex")
    node.data_type = data_type
    node.domain = "POINT"
    links.new(geometry, node.inputs["Geometry"])
    links.new(value, node.inputs["Value"])
    links.new(index, node.inputs["Index"])
    return node.outputs[0]


def _attribute(nodes, name, data_type):
    node = nodes.new("GeometryNodeInputNamedAttribute")
    node.data_type = data_type
    node.inputs["Name"].default_value = name
    return node.outputs["Attribute"]


def _store(nodes, links, geometry, name, value, data_type):
    node = nodes.new("GeometryNodeStoreNamedAttribute")
    node.data_type = data_type
    node.domain = "POINT"
    node.inputs["Name"].default_value = name
    links.new(geometry, node.inputs["Geometry"])
    links.new(value, node.inputs["Value"])
    return node.outputs["Geometry"]


def tracks_node_group() -> bpy.types.NodeTree:
    """The Geometry Nodes group that plays the tracks back (built once per .blend, then reused)."""
    group = bpy.data.node_groups.get(NODE_GROUP)
    if group is not None:
        return group
    group = bpy.data.node_groups.new(NODE_GROUP, "GeometryNodeTree")
    group.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    for name, socket_type in _INPUTS:
        group.interface.new_socket(name, in_out="INPUT", socket_type=socket_type)
    group.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    nodes, links = group.nodes, group.links
    inp = nodes.new("NodeGroupInput")
    out = nodes.new("NodeGroupOutput")
    geometry = inp.outputs["Geometry"]

    # t = clamp(floor(frame - start), 0, frames - 1); vertex index of point n: t * N + n.
    time = nodes.new("GeometryNodeInputSceneTime")
    t = _math(nodes, links, "FLOOR", _math(nodes, links, "SUBTRACT", time.outputs["Frame"], inp.outputs["Frame Start"]))
    last = _math(nodes, links, "SUBTRACT", inp.outputs["Frames"], 1.0)
    t = _math(nodes, links, "MINIMUM", _math(nodes, links, "MAXIMUM", t, 0.0), last)
    index = nodes.new("GeometryNodeInputIndex").outputs[0]
    vertex = _math(nodes, links, "MULTIPLY_ADD", t, inp.outputs["Points"], index)

    position = _sample(nodes, links, geometry, nodes.new("GeometryNodeInputPosition").outputs[0], vertex,
                       "FLOAT_VECTOR")
    colour = _sample(nodes, links, geometry, _attribute(nodes, "track_rgb", "FLOAT_COLOR"), index, "FLOAT_COLOR")
    visible = _sample(nodes, links, geometry, _attribute(nodes, "track_visible", "FLOAT"), vertex, "FLOAT")

    points = nodes.new("GeometryNodePoints")
    links.new(inp.outputs["Points"], points.inputs["Count"])
    links.new(position, points.inputs["Position"])
    links.new(inp.outputs["Radius"], points.inputs["Radius"])
    result = _store(nodes, links, points.outputs["Geometry"], "rgb", colour, "FLOAT_COLOR")
    result = _store(nodes, links, result, "visible", visible, "FLOAT")
    material = nodes.new("GeometryNodeSetMaterial")
    material.inputs["Material"].default_value = track_material()
    links.new(result, material.inputs["Geometry"])
    links.new(material.outputs["Geometry"], out.inputs["Geometry"])
    return group


def track_material() -> bpy.types.Material:
    """Emission-free material that colours each point by its ``rgb`` attribute."""
    mat = bpy.data.materials.get(MATERIAL)
    if mat is not None:
        return mat
    mat = bpy.data.materials.new(MATERIAL)
    tree = material_node_tree(mat)
    bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None) or tree.nodes.new(
        "ShaderNodeBsdfPrincipled")
    output = next((n for n in tree.nodes if n.type == "OUTPUT_MATERIAL"), None) or tree.nodes.new(
        "ShaderNodeOutputMaterial")
    attr = tree.nodes.new("ShaderNodeAttribute")
    attr.attribute_type = "GEOMETRY"
    attr.attribute_name = "rgb"
    tree.links.new(attr.outputs["Color"], bsdf.inputs["Base Color"])
    tree.links.new(bsdf.outputs[0], output.inputs["Surface"])
    return mat


def _fill_mesh(mesh: bpy.types.Mesh, tracks: Tracks) -> None:
    T, N = tracks.num_frames, tracks.num_points
    mesh.clear_geometry()
    mesh.vertices.add(T * N)
    mesh.vertices.foreach_set("co", np.ascontiguousarray(tracks.xyz, np.float32).ravel())
    rgb = np.ones((T * N, 4), np.float32)
    rgb[:N, :3] = (tracks.rgb.astype(np.float32) / 255.0) ** 2.2  # sRGB-ish → linear
    for name in ("track_rgb", "track_visible"):
        if name in mesh.attributes:
            mesh.attributes.remove(mesh.attributes[name])
    mesh.attributes.new("track_rgb", "FLOAT_COLOR", "POINT").data.foreach_set("color", rgb.ravel())
    mesh.attributes.new("track_visible", "FLOAT", "POINT").data.foreach_set(
        "value", tracks.vis.astype(np.float32).ravel())
    mesh.update()


def build_tracks_object(scene: bpy.types.Scene, tracks: Tracks, name: str, frame_start: int,
                        radius: float = POINT_RADIUS) -> bpy.types.Object:
    """Create or update the object ``name`` showing ``tracks``; tracks frame 0 plays at ``frame_start``."""
    obj = bpy.data.objects.get(name)
    if obj is not None and obj.type != "MESH":
        obj.name = f"{name}.old"
        obj = None
    if obj is None:
        obj = bpy.data.objects.new(name, bpy.data.meshes.new(name))
        scene.collection.objects.link(obj)
    elif scene.objects.get(obj.name) is None:
        scene.collection.objects.link(obj)
    obj.matrix_world.identity()
    _fill_mesh(obj.data, tracks)
    modifier = next((m for m in obj.modifiers if m.type == "NODES" and m.node_group
                     and m.node_group.name == NODE_GROUP), None)
    if modifier is None:
        modifier = obj.modifiers.new("Track2View Tracks", "NODES")
        modifier.node_group = tracks_node_group()
    values = {"Frame Start": int(frame_start), "Frames": tracks.num_frames, "Points": tracks.num_points,
              "Radius": float(radius)}
    for item in modifier.node_group.interface.items_tree:
        if item.item_type == "SOCKET" and item.in_out == "INPUT" and item.name in values:
            modifier[item.identifier] = values[item.name]
    obj.data.update()
    return obj
