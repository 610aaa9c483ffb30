"""File formats: the one reader/writer per format, and atomic output helpers."""
