"""Training: the tiny VAE (stage 1) and the transformer + conditioner by flow matching (stage 2).

Modules: :mod:`.flow` (rectified-flow noise/targets/timesteps, as the pipeline samples),
:mod:`.data` (curated samples → held-out split, cached VAE latents, batches), :mod:`.vae`
(reconstruction training of the VAE on frame windows, PSNR), :mod:`.checkpoint` (safetensors-only
checkpoints + resume), :mod:`.distributed` (DDP under torchrun/accelerate), :mod:`.loop` (the
training loops, loss log, validation, progress bar). CLI: ``t2v train``.
"""
