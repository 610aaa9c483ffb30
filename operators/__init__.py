"""Operators: one module per user action, each a thin adapter (bpy state → engine → bpy state).

Each module exposes ``CLASSES``; they are registered in the order listed here. A module may also
define ``register()``/``unregister()`` for what is not a class (e.g. a draw handler): called after
its classes are registered and before they are unregistered.
"""

import bpy

from . import (
    add_target_camera,
    camera_move_presets,
    coverage_preview,
    import_footage,
    reconstruct_tracks,
    render_view,
)

_MODULES: list = [import_footage, reconstruct_tracks, add_target_camera, camera_move_presets, coverage_preview,
                  render_view]


def _classes():
    return [cls for module in _MODULES for cls in module.CLASSES]


def register():
    for cls in _classes():
        bpy.utils.register_class(cls)
    for module in _MODULES:
        if hasattr(module, "register"):
            module.register()


def unregister():
    for module in reversed(_MODULES):
        if hasattr(module, "unregister"):
            module.unregister()
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
