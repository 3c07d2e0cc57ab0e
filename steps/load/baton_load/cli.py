"""Command line of the load container (no logic: the shared step CLI does the work)."""

from baton.stepcli import build_app
from baton_load.job import STEP

app = build_app(
    STEP,
    "Load: replace the warehouse partition of the dataset's table (and its "
    "marts) with the committed validated partition.",
)
