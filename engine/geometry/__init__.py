"""Cameras and projective geometry (OpenCV convention: x right, y down, z forward)."""
