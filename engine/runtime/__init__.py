"""The one place that picks compute devices: ONNX Runtime providers and the torch device.

Preferences (the add-on's *Device* setting, the CLI's ``--device``): ``"auto"`` takes the best
available (TensorRT → CUDA → CPU for ONNX Runtime; CUDA → CPU for torch), ``"cuda"`` asks for
the GPU (ONNX Runtime: TensorRT/CUDA when present; torch: an error if there is none), ``"cpu"``
forces the CPU. Heavy imports (onnxruntime, torch) happen inside the functions.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    import onnxruntime as ort
    import torch

PREFERENCES = ("auto", "cuda", "cpu")
# ORT providers in order of preference when the GPU is allowed.
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
CPU_PROVIDER = "CPUExecutionProvider"
# Upper bound of ORT's intra-op threads (the engine shares the machine with Blender's UI).
MAX_INTRA_OP_THREADS = 8
# numpy's OpenBLAS threads spin while they wait: on a busy machine (Blender open, a render or a
# training running) they made the tracker's 3D stage 60x slower (bench_tracking, 50 frames of
# 854x480: 130 s instead of 2 s), and on a quiet one they still cost seconds. The engine's numpy
# work is many small matrices that gain nothing from them. torch does not use OpenBLAS.
SINGLE_THREAD_BLAS = {"OPENBLAS_NUM_THREADS": "1"}


def limit_blas_threads(env: dict | None = None) -> None:
    """Set :data:`SINGLE_THREAD_BLAS` in ``env`` (default: this process's environment, which only
    works before numpy is imported) where the user has not set it."""
    env = os.environ if env is None else env
    for key, value in SINGLE_THREAD_BLAS.items():
        env.setdefault(key, value)


def _check_preference(preference: str) -> None:
    if preference not in PREFERENCES:
        raise UserError(f"device preference {preference!r}: choose one of {', '.join(PREFERENCES)}")


def onnx_providers(preference: str = "auto") -> list[str]:
    """ONNX Runtime execution providers to use, best first, always ending with the CPU provider.

    Args:
        preference: ``"auto"``/``"cuda"`` (GPU providers that this onnxruntime build has, then
            CPU) or ``"cpu"`` (CPU only).
    """
    import onnxruntime as ort

    _check_preference(preference)
    if preference == "cpu":
        return [CPU_PROVIDER]
    available = set(ort.get_available_providers())
    return [p for p in GPU_PROVIDERS if p in available] + [CPU_PROVIDER]


def intra_op_threads() -> int:
    """Threads for one ORT session: the cores this process may use, capped at MAX_INTRA_OP_THREADS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_INTRA_OP_THREADS))


def create_session(path: str | os.PathLike, preference: str = "auto") -> ort.InferenceSession:
    """An ONNX Runtime session for the model at ``path`` with all graph optimisations on.

    Raises:
        UserError: if the file is missing or not a loadable ONNX model.
    """
    import onnxruntime as ort

    providers = onnx_providers(preference)
    if not os.path.isfile(path):
        raise UserError(f"ONNX model {path} does not exist; export one with `t2v export-onnx`")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = intra_op_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    try:
        return ort.InferenceSession(os.fspath(path), sess_options=options, providers=providers)
    except (ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
            ort.capi.onnxruntime_pybind11_state.InvalidGraph,
            ort.capi.onnxruntime_pybind11_state.Fail) as exc:
        raise UserError(f"ONNX model {path} cannot be loaded ({exc}); re-export it with `t2v export-onnx`") from exc


def select_torch_device(preference: str = "auto") -> torch.device:
    """The torch device: CUDA when available (``"auto"``) or requested (``"cuda"``), else the CPU.

    Raises:
        UserError: ``"cuda"`` was requested but this torch build sees no CUDA device.
    """
    import torch

    _check_preference(preference)
    if preference == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if preference == "cuda":
        raise UserError("device preference 'cuda': no CUDA device is available to PyTorch "
                        "(install a CUDA build of torch or choose 'auto'/'cpu')")
    return torch.device("cpu")
