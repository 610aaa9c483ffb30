"""A stand-in for ``bpy.types.UILayout`` that records what a panel draws (Blender draws no UI in
background mode): every call is appended to ``log`` as (name, args, kwargs)."""

from __future__ import annotations

import types


class RecordingLayout:
    """Sub-layouts (``row()``, ``box()``…) record into the same log; ``operator()`` returns an object
    that takes the operator's properties as attributes, as Blender's does."""

    def __init__(self, log: list):
        self.log = log

    def __getattr__(self, name):
        def call(*args, **kw):
            self.log.append((name, args, kw))
            return types.SimpleNamespace() if name == "operator" else RecordingLayout(self.log)
        return call
