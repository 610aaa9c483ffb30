"""Operators: one module per user action, each a thin adapter (bpy state → engine → bpy state).

Each module exposes ``CLASSES``; they are registered in the order listed here.
"""

import bpy

_MODULES: list = []


def _classes():
    return [cls for module in _MODULES for cls in module.CLASSES]


def register():
    for cls in _classes():
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(_classes()):
        bpy.utils.unregister_class(cls)
