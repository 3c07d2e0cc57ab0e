"""Command line of the transform container (no logic: the shared step CLI does the work)."""

from baton.stepcli import build_app
from baton_transform.job import STEP

app = build_app(
    STEP,
    "Transform: apply the dataset's transform to the committed raw partition, "
    "drop repeated keys to quarantine, commit staged/<dataset>/dt=<date>/.",
)
