"""The artist's whole workflow in a Blender where the extension zip gets installed (a test and a bench).

:func:`workflow_code` is Python for a fresh Blender process (bpy as a module) that needs nothing but
bpy: it installs the zip with ``extensions.package_install_files`` (Blender unpacks any bundled
wheels), saves a .blend beside the footage and runs Import Footage, Reconstruct Tracks, Add Target
Camera, an orbit, Coverage Preview, Preview New View and Render New View with the built-in model.
It prints one ``step <name> <seconds>`` line per operator and, last, the Blender version and the
render folders it made; the add-on is disabled at the end.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

STEPS = (
    ("install", "bpy.ops.extensions.package_install_files(filepath=ZIP, repo='user_default', "
                "enable_on_install=True)"),
    ("import_footage", "ops.import_footage(filepath=FIRST_IMAGE)"),
    ("reconstruct_tracks", "ops.reconstruct_tracks(max_points=1500)"),
    ("add_target_camera", "ops.add_target_camera()"),
    ("orbit", "ops.camera_move(move='ORBIT_RIGHT', amount=5.0)"),
    ("coverage_preview", "ops.coverage_preview()"),
    ("preview_view", "ops.preview_view(camera=bpy.context.scene.track2view.target_camera.name)"),
    ("render_view", "ops.render_view(camera=bpy.context.scene.track2view.target_camera.name)"),
)


def workflow_code(zip_path: Path, first_image: Path, blend: Path) -> str:
    """The workflow's code; ``first_image`` is the first frame of an image-sequence shot, ``blend`` the
    .blend to save first (renders land in ``//track2view_renders/<blend>`` beside it)."""
    steps = "\n".join(f"step({name!r}, lambda: {call})" for name, call in STEPS)
    return textwrap.dedent(f"""
        import time
        from pathlib import Path

        import bpy
        import addon_utils  # importable once bpy is

        ZIP, FIRST_IMAGE = {str(zip_path)!r}, {str(first_image)!r}
        ops = bpy.ops.track2view
        bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})

        def step(name, call):
            start = time.perf_counter()
            assert call() == {{"FINISHED"}}, name
            print("step", name, round(time.perf_counter() - start, 2), flush=True)

    """) + steps + textwrap.dedent(f"""

        renders = Path({str(blend.parent)!r}) / "track2view_renders" / {blend.stem!r}  # per .blend
        made = sorted(p.name for p in next(renders.iterdir()).iterdir())
        print(bpy.app.version_string, made, len(list(renders.rglob("*.png"))), flush=True)
        addon_utils.disable("bl_ext.user_default.track2view", default_set=True)
    """)
