"""Track2View engine: the bpy-free product core.

Nothing in this package imports :mod:`bpy`; data crosses into Blender as numpy arrays and
small dataclasses.

Sub-packages and modules, in the order work flows through them:

- ``io``: file formats (the tracks file, footage frames, atomic outputs);
- ``geometry``: per-frame pinhole cameras (OpenCV axes) and CAM.json;
- ``synth``: synthetic multi-camera clips with ground-truth tracks (layout, presets, loader);
- ``tracking``: 3D point tracks and the source camera from footage (``t2v track``);
- ``pairing``, ``coverage``, ``camera_moves``: tracks seen from a target camera;
- ``warp``: the geometric-warp preview; ``render``: the render job (``t2v render``);
- ``model``, ``runtime``, ``generate``: the track-conditioned DiT, ONNX Runtime, device choice;
- ``curation``, ``train``: training pairs and training (``t2v curate``, ``t2v train``);
- ``eval``: the evaluation harness (``t2v eval``);
- ``jobs``: named jobs with typed settings, the one ``Progress`` type, and the runners: in process,
  ``worker`` (a subprocess: Blender's operators, Blender renders) and ``ray_runner`` (at once on Ray:
  ``batch``, ``--ray``); ``cli``: the ``t2v`` command.
"""

__version__ = "0.1.0"
