"""Track2View for Blender: re-shoot existing footage from a camera you animate.

This file is both the extension's entry point (``register``/``unregister``) and the top of the
Python package ``track2view``. It imports no bpy at module level, so ``import track2view.engine``
works in any Python; the Blender modules are imported inside :func:`register`.
"""

_registered_modules: list = []

#: Modules the add-on imports → the packages that provide them (the platform zips bundle these wheels).
REQUIRED_MODULES = {
    "cv2": "opencv-python-headless", "torch": "torch", "diffusers": "diffusers", "safetensors": "safetensors",
    "onnxruntime": "onnxruntime",
}


def missing_packages() -> list[str]:
    """The packages of :data:`REQUIRED_MODULES` this Python cannot import (without importing any)."""
    import importlib.util

    return [package for module, package in REQUIRED_MODULES.items() if importlib.util.find_spec(module) is None]


def _modules():
    from . import operators, panels, preferences, properties
    from .bridge import blender_cli

    # Order matters: properties before the operators and panels that read them.
    return [preferences, properties, operators, panels, blender_cli]


def register() -> None:
    """Register everything the add-on has; safe to call again after :func:`unregister`.

    Refuses, naming them, when packages the add-on needs are missing (the code-only zip in a Blender
    without them), before anything is registered.
    """
    if _registered_modules:
        return
    missing = missing_packages()
    if missing:
        raise ImportError(
            f"Track2View needs Python packages this Blender does not have: {', '.join(missing)}. This looks "
            f"like the code-only zip: install the zip for your platform instead (track2view-<version>-"
            f"linux_x64.zip, windows_x64.zip or macos_arm64.zip), which bundles them.")
    for module in _modules():
        module.register()
        _registered_modules.append(module)


def unregister() -> None:
    """Unregister in reverse order; leaves none of our classes or properties behind."""
    while _registered_modules:
        _registered_modules.pop().unregister()
