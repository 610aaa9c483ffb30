"""Sidebar panels (3D View and Sequencer, tab "Track2View"): UI only, draw() never computes."""

import bpy

from . import main_panel

_CLASSES = [*main_panel.CLASSES]


def register():
    for cls in _CLASSES:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
