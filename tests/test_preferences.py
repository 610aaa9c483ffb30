"""Add-on preferences lookup and the sidebar's model line in bpy 5.0.1 (add-on registered by a script)."""

from __future__ import annotations

import pytest

from .layout_recorder import RecordingLayout

pytestmark = pytest.mark.bpy


def test_preferences_absent_when_not_enabled_and_panel_names_the_default_model(addon):
    from track2view import preferences
    from track2view.panels.main_panel import _draw_render_buttons

    bpy = addon
    assert preferences.get(bpy.context) is None  # registered, not enabled as an add-on
    log = []
    _draw_render_buttons(RecordingLayout(log), bpy.context)
    labels = [kw.get("text", "") for name, _, kw in log if name == "label"]
    assert "Model: Built-in default" in labels, labels


def test_cache_dir_of_a_non_extension_package_falls_back_to_the_engine_default(addon, tmp_path):
    from track2view.preferences import Track2ViewPreferences

    class _Prefs:  # the preference values without an enabled add-on
        resolved_cache_dir = Track2ViewPreferences.resolved_cache_dir
        cache_dir = ""

    assert _Prefs().resolved_cache_dir(create=False) is None  # "track2view" is not an extension package
    _Prefs.cache_dir = str(tmp_path)
    assert _Prefs().resolved_cache_dir() == str(tmp_path)
