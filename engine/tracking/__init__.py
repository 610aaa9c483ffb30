"""The built-in CPU point tracker: 2D flow tracks → source camera → 3D tracks.

Modules: :mod:`.flow_tracks` (dense long 2D tracks by optical-flow chaining),
:mod:`.camera_solve` (per-frame intrinsics and poses from those tracks) on :mod:`.geometry`
(triangulation, bundle adjustment), :mod:`.lift` (static points triangulated, moving points lifted
with scale-consistent depth), :mod:`.visibility` (static points seen again by reprojection),
:mod:`.depth_input` (a user depth sequence), :mod:`.world_frame` (the Blender-friendly world),
:mod:`.pipeline` (the whole job, ``t2v track``), :mod:`.import_tracks` (results of external
trackers, ``t2v import-tracks``).
"""
