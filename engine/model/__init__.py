"""Neural networks of the engine (PyTorch, diffusers ``ModelMixin`` + ``ConfigMixin``).

Each model lives in its own module (e.g. ``conditioner.py``: the dual-view track conditioner);
import them from there. Weights are saved as safetensors + JSON config (``save_pretrained``).
"""
