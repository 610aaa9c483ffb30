"""The built-in CPU point tracker: 2D flow tracks → source camera → 3D tracks.

Modules: :mod:`.flow_tracks` (dense long 2D tracks by optical-flow chaining),
:mod:`.camera_solve` (per-frame intrinsics and poses from those tracks),
:mod:`.lift` (static points triangulated, moving points lifted with scale-consistent depth),
:mod:`.depth_input` (a user depth sequence), :mod:`.pipeline` (the whole job, ``t2v track``),
:mod:`.import_tracks` (results of external trackers, ``t2v import-tracks``).
"""
