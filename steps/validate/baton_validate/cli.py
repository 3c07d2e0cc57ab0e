"""Command line of the validate container (no logic: the shared step CLI does the work)."""

from baton.stepcli import build_app
from baton_validate.job import STEP

app = build_app(
    STEP,
    "Validate: check the committed staged partition against the dataset's "
    "contract; commit validated/<dataset>/dt=<date>/ and quarantine the rest.",
)
