"""Evaluation (bpy-free): 3D tracking (TAPVid-3D) and camera accuracy (CamI2V protocol) metrics, and
the ``t2v eval`` harness (:mod:`.harness`: suites, methods, fidelity, 4D consistency, reports)."""
