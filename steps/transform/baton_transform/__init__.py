"""baton transform: raw partition -> staged partition (the dataset's transform, then dedupe)."""
