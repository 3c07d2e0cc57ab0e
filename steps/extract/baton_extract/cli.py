"""Command line of the extract container (no logic: the shared step CLI does the work)."""

from baton.stepcli import build_app
from baton_extract.job import STEP

app = build_app(
    STEP,
    "Extract: read a partition's landing file(s) with the dataset's raw schema "
    "and commit raw/<dataset>/dt=<date>/ as Parquet.",
)
