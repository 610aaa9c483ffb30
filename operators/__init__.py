"""Operators: one module per user action, each a thin adapter (bpy state → engine → bpy state).

Each module exposes ``CLASSES``; they are registered in the order listed here.
"""

import bpy

from . import add_target_camera, camera_move_presets

_MODULES: list = [add_target_camera, camera_move_presets]


def _classes():
    return [cls for module in _MODULES for cls in module.CLASSES]


def register():
    for cls in _classes():
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
