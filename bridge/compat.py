"""Version shims so the add-on runs on Blender 4.2 LTS, 4.5 LTS and 5.0.

Every API that differs between those versions is reached through a function here; nothing
else in the add-on tests ``bpy.app.version``.
"""

from __future__ import annotations

import bpy


def sequencer_strips(scene: bpy.types.Scene, *, all_levels: bool = False):
    """The scene's top-level VSE strips (``strips`` in 5.0, ``sequences`` before).

    ``all_levels`` includes strips inside meta strips (``strips_all`` / ``sequences_all``).
    Creates the sequence editor if the scene has none.
    """
    editor = scene.sequence_editor or scene.sequence_editor_create()
    if hasattr(editor, "strips"):
        return editor.strips_all if all_levels else editor.strips
    return editor.sequences_all if all_levels else editor.sequences


def add_color_strip(scene: bpy.types.Scene, name: str, channel: int, frame_start: int, length: int):
    """A colour strip of ``length`` frames from ``frame_start`` (``new_effect`` takes ``length`` in 5.0,
    ``frame_end`` before)."""
    strips = sequencer_strips(scene)
    if bpy.app.version >= (5, 0, 0):
        return strips.new_effect(name=name, type="COLOR", channel=channel, frame_start=frame_start, length=length)
    return strips.new_effect(name=name, type="COLOR", channel=channel, frame_start=frame_start,
                             frame_end=frame_start + length)


def blend_relative_path_options() -> set[str]:
    """Property ``options`` for a path that may be blend-relative ("//…"): 4.5+ warn on such a path
    unless the property says ``PATH_SUPPORTS_BLEND_RELATIVE``, which 4.2 does not know."""
    return {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


def eevee_engine_name() -> str:
    """Render-engine identifier of EEVEE: 'BLENDER_EEVEE_NEXT' on 4.2–4.5, 'BLENDER_EEVEE' on 5.0."""
    items = bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items.keys()
    return "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in items else "BLENDER_EEVEE"


def set_output_format(image_settings, file_format: str) -> None:
    """Set an output ``file_format`` ('PNG', 'OPEN_EXR', 'FFMPEG', ...).

    Blender 5.0 groups formats by ``media_type`` ('IMAGE', 'MULTI_LAYER_IMAGE', 'VIDEO'), which
    must be set before a format of another media type can be chosen.
    """
    if hasattr(image_settings, "media_type"):
        image_settings.media_type = "VIDEO" if file_format == "FFMPEG" else "IMAGE"
    image_settings.file_format = file_format


def material_node_tree(owner):
    """The shader node tree of a material or world, switching nodes on where needed.

    Blender 5.0 always gives new materials/worlds a node tree (``use_nodes`` is deprecated);
    4.2–4.5 create it only when ``use_nodes`` is set.
    """
    if owner.node_tree is None:
        owner.use_nodes = True
    return owner.node_tree


def animation_fcurves(id_data):
    """The F-curves that animate ``id_data`` (an ID: object, camera data…), or None without an action.

    Blender 4.4+ keeps F-curves in the channelbag of the action slot assigned to the ID
    (``Action.fcurves`` is gone in 5.0); 4.2 has them on the action.
    """
    anim = id_data.animation_data
    if anim is None or anim.action is None:
        return None
    if hasattr(anim, "action_slot"):
        from bpy_extras import anim_utils

        bag = anim_utils.action_get_channelbag_for_slot(anim.action, anim.action_slot)
        return None if bag is None else bag.fcurves
    return anim.action.fcurves


def point_shader():
    """(shader, has_size_uniform): a built-in shader for round, per-vertex coloured points.

    'POINT_FLAT_COLOR' (a ``size`` uniform; newer Blender) or 'FLAT_COLOR' (4.2: the point size
    comes from ``gpu.state.point_size_set``). Only call while drawing (needs a GPU context).
    """
    import gpu

    try:
        return gpu.shader.from_builtin("POINT_FLAT_COLOR"), True
    except ValueError:
        return gpu.shader.from_builtin("FLAT_COLOR"), False


def new_compositor_tree(scene: bpy.types.Scene, name: str):
    """An empty compositor node tree that ``scene`` uses (5.0: a node group set as
    ``Scene.compositing_node_group``; 4.2–4.5: the scene's own ``node_tree`` with ``use_nodes``)."""
    if hasattr(scene, "compositing_node_group"):
        tree = bpy.data.node_groups.new(name, "CompositorNodeTree")
        scene.compositing_node_group = tree
        return tree
    scene.use_nodes = True
    scene.node_tree.nodes.clear()
    return scene.node_tree


def new_file_output(tree, folder: str, name: str):
    """A File Output node with one float input called ``name``, writing into ``folder`` (5.0: ``directory``
    and ``file_output_items``; 4.2–4.5: ``base_path`` and its first file slot)."""
    node = tree.nodes.new("CompositorNodeOutputFile")
    if hasattr(node, "file_output_items"):
        node.file_name = ""
        node.file_output_items.new("FLOAT", name)
    else:
        node.file_slots[0].path = name
    set_file_output_folder(node, folder)
    return node


def set_file_output_folder(node, folder: str) -> None:
    """Point a File Output node at ``folder`` (``directory`` in 5.0, ``base_path`` before)."""
    if hasattr(node, "directory"):
        node.directory = folder.rstrip("/") + "/"
    else:
        node.base_path = folder.rstrip("/") + "/"
