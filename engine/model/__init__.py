"""Neural networks of the engine (PyTorch, diffusers ``ModelMixin`` + ``ConfigMixin``).

Each model lives in its own module (e.g. ``conditioner.py``: the dual-view track conditioner);
import them from there. Weights are saved as safetensors + JSON config (``save_pretrained``).

The generator: ``transformer_track2view.py`` (the DiT), ``pipeline.py`` (``Track2ViewPipeline``),
``configs.py`` (``tiny``, ``wan1.3b``), ``build.py`` (``build_pipeline``, ``trainable_parameters``),
``wan_backbone.py`` (``load_wan_backbone``, ``merge_lora``), ``model_folder.py`` (safe loading),
``windows.py`` (long clips), ``track_inputs.py`` (tracks → conditioner inputs),
``conditioner_cache.py`` (the conditioner's ONNX export, found or cached by weight hash).
"""
