"""bpy ↔ engine conversion: the only place (besides operators/panels) that touches bpy data.

``compat`` holds the version shims (Blender 4.2 LTS, 4.5 LTS, 5.0).
"""
