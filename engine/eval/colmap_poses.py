"""Camera poses of a (generated) video by pycolmap, for the camera-accuracy metrics.

The field's protocol (CamI2V / ReCamMaster) runs COLMAP on the generated video. Here: SIFT
features (CPU, at most :data:`MAX_FEATURES` per frame), sequential matching (each frame against
the next :data:`SEQUENTIAL_OVERLAP` frames, plus quadratic skips), and incremental mapping with
the intrinsics *known* (the target camera's K, a fixed PINHOLE camera: no focal or principal
point refinement), initialisation thresholds relaxed for video's small baselines (see
:func:`mapping_options`). pycolmap may split a video into several models; the largest is kept.

Frames the mapper does not register are counted (``registered`` False) and take the pose of the
nearest registered frame (earlier one on ties), so a method that fails to register is charged
for it by the summed errors instead of being measured on its easy frames only. Fewer than
:data:`MIN_REGISTERED` registered frames → no estimate (``None``), counted as a failure.

Poses are world-to-camera (T, 4, 4) in OpenCV axes (COLMAP's convention too) in the model's
arbitrary world frame and scale; :mod:`.camera_metrics` makes them relative and scale-free.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import require_tool

MAX_FEATURES = 1024  # SIFT features per frame
SEQUENTIAL_OVERLAP = 5  # frames each frame is matched against (COLMAP's default: 10)
INIT_MIN_INLIERS = 50  # COLMAP default 100: small 256² frames have few features
INIT_MIN_TRI_ANGLE_DEG = 4.0  # COLMAP default 16°: video baselines are small
MIN_MODEL_SIZE = 3  # frames a model needs to be kept
MIN_REGISTERED = 2  # fewer registered frames: no pose estimate for the video
NUM_THREADS = 2
BA_LOCAL_ITERATIONS = 25  # bundle-adjustment iteration caps (COLMAP: unlimited); enough for 25 frames
BA_GLOBAL_ITERATIONS = 50
BA_GLOBAL_REFINEMENTS = 2  # COLMAP default 5


@dataclasses.dataclass
class PoseEstimate:
    """``w2c`` (T, 4, 4) per frame (unregistered frames filled, see the module docstring),
    ``registered`` (T,) bool, ``models`` how many models pycolmap made, ``seconds`` wall time;
    ``rotation_only`` True when the estimator found no parallax and fixed the camera centre (every
    translation zero: TransErr is then the ground truth's own path length)."""

    w2c: np.ndarray
    registered: np.ndarray
    models: int
    seconds: float
    rotation_only: bool = False

    @property
    def unregistered(self) -> int:
        return int((~self.registered).sum())


def mapping_options():
    """pycolmap IncrementalPipelineOptions for a short video with known intrinsics."""
    pycolmap = require_tool("pycolmap", "the evaluation's COLMAP poses")

    options = pycolmap.IncrementalPipelineOptions()
    options.num_threads = NUM_THREADS
    options.random_seed = 0
    options.min_model_size = MIN_MODEL_SIZE
    options.ba_refine_focal_length = False
    options.ba_refine_principal_point = False
    options.ba_refine_extra_params = False
    options.extract_colors = False
    options.ba_local_max_num_iterations = BA_LOCAL_ITERATIONS
    options.ba_global_max_num_iterations = BA_GLOBAL_ITERATIONS
    options.ba_global_max_refinements = BA_GLOBAL_REFINEMENTS
    options.mapper.init_min_num_inliers = INIT_MIN_INLIERS
    options.mapper.init_min_tri_angle = INIT_MIN_TRI_ANGLE_DEG
    options.mapper.abs_pose_refine_focal_length = False
    options.mapper.abs_pose_refine_extra_params = False
    options.mapper.num_threads = NUM_THREADS
    options.mapper.random_seed = 0
    return options


def fill_unregistered(w2c: np.ndarray, registered: np.ndarray) -> np.ndarray:
    """Copy of ``w2c`` (T, 4, 4) where each unregistered frame takes its nearest registered frame's pose."""
    idx = np.nonzero(registered)[0]
    t = np.arange(len(w2c))
    nearest = idx[np.abs(t[:, None] - idx[None, :]).argmin(1)]
    return w2c[nearest].copy()


def estimate_poses(frames: np.ndarray, K: np.ndarray, workdir: str | Path | None = None) -> PoseEstimate | None:
    """Estimate per-frame poses of ``frames`` (T, H, W, 3) uint8 RGB with known intrinsics ``K`` (3, 3), or
    (T, 3, 3) of which frame 0's is used (one COLMAP camera) (pixels, (0, 0) = centre of the top-left
    pixel). ``workdir`` holds the images and database
    (a temporary folder if None). Returns None when fewer than :data:`MIN_REGISTERED` frames register."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="t2v-colmap-") as tmp:
            return estimate_poses(frames, K, tmp)
    import cv2

    pycolmap = require_tool("pycolmap", "the evaluation's COLMAP poses")
    start = time.perf_counter()
    K = np.asarray(K, np.float64)
    K = K[0] if K.ndim == 3 else K
    workdir = Path(workdir)
    images = workdir / "images"
    images.mkdir(parents=True, exist_ok=True)
    names = [f"{t:04d}.png" for t in range(len(frames))]
    for name, frame in zip(names, frames, strict=True):
        cv2.imwrite(str(images / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    database = workdir / "database.db"
    database.unlink(missing_ok=True)

    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "PINHOLE"
    # COLMAP puts (0, 0) at the top-left pixel's corner: principal point + 0.5.
    reader.camera_params = ",".join(str(float(v)) for v in (K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5))
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = NUM_THREADS
    extraction.sift.max_num_features = MAX_FEATURES
    pycolmap.extract_features(database, images, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                              reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = NUM_THREADS
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = SEQUENTIAL_OVERLAP
    pycolmap.match_sequential(database, matching_options=matching, pairing_options=pairing,
                              device=pycolmap.Device.cpu)
    models = pycolmap.incremental_mapping(database, images, workdir / "sparse", options=mapping_options())

    T = len(frames)
    w2c = np.tile(np.eye(4), (T, 1, 1))
    registered = np.zeros(T, bool)
    if models:
        best = max(models.values(), key=lambda rec: rec.num_reg_images())
        index = {name: t for t, name in enumerate(names)}
        for image in best.images.values():
            if image.has_pose:
                t = index[image.name]
                w2c[t, :3, :] = image.cam_from_world().matrix()
                registered[t] = True
    seconds = time.perf_counter() - start
    if registered.sum() < MIN_REGISTERED:
        return None
    return PoseEstimate(w2c=fill_unregistered(w2c, registered), registered=registered, models=len(models),
                        seconds=seconds)
