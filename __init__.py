"""Track2View for Blender: re-shoot existing footage from a camera you animate.

This file is both the extension's entry point (``register``/``unregister``) and the top of the
Python package ``track2view``. It imports no bpy at module level, so ``import track2view.engine``
works in any Python; the Blender modules are imported inside :func:`register`.
"""

_registered_modules: list = []


def _modules():
    from . import operators, panels, preferences, properties
    from .bridge import blender_cli

    # Order matters: properties before the operators and panels that read them.
    return [preferences, properties, operators, panels, blender_cli]


def register() -> None:
    """Register everything the add-on has; safe to call again after :func:`unregister`."""
    if _registered_modules:
        return
    for module in _modules():
        module.register()
        _registered_modules.append(module)


def unregister() -> None:
    """Unregister in reverse order; leaves none of our classes or properties behind."""
    while _registered_modules:
        _registered_modules.pop().unregister()
