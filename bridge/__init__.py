"""bpy ↔ engine conversion: the only place (besides operators/panels) that touches bpy data.

``compat`` holds the version shims (Blender 4.2 LTS, 4.5 LTS, 5.0); ``camera`` is the one
Blender camera ↔ engine ``CameraTrack`` conversion; ``synth_scene``/``synth_render`` build and render
the synthetic clips of ``t2v synth`` (run as a worker subprocess).
"""
