"""Evaluation metrics (bpy-free): 3D tracking (TAPVid-3D) and camera accuracy (CamI2V protocol)."""
