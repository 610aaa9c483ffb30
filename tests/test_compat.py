"""Version shims against bpy 5.0.1."""

from track2view.bridge import compat


def test_sequencer_strips_and_formats(bpy_factory):
    bpy = bpy_factory
    scene = bpy.context.scene
    strips = compat.sequencer_strips(scene)
    assert len(strips) == 0
    assert compat.eevee_engine_name() in bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items.keys()
    compat.set_output_format(scene.render.image_settings, "FFMPEG")
    assert scene.render.image_settings.file_format == "FFMPEG"
    compat.set_output_format(scene.render.image_settings, "PNG")
    assert scene.render.image_settings.file_format == "PNG"
