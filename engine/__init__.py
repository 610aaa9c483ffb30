"""Track2View engine: the bpy-free product core.

Nothing in this package imports :mod:`bpy`; data crosses into Blender as numpy arrays and
small dataclasses. Sub-packages: ``io`` (file formats), ``geometry`` (cameras, projection),
``cli`` (the ``t2v`` command).
"""

__version__ = "0.1.0"
