"""Curation: training pairs (one-to-one track correspondences) from synchronized multi-camera views.

For two views that share their first frame: reverse the source clip, append the target clip, track
the joined clip once, split every track into its two halves, keep the reliable pairs.

Modules: :mod:`.views` (reading views, checking they pair up), :mod:`.junction` (joining clips and
splitting tracks), :mod:`.filters` (drop reasons and thresholds), :mod:`.pair` (one pair, end to
end), :mod:`.samples` (the dataset layout, writer and the loader ``load_sample``/``iter_samples``
the trainer uses), :mod:`.run` (many pairs, resumable; ``t2v curate``), :mod:`.score` (accuracy
against synthetic ground truth).
"""
