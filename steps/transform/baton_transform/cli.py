"""Command line of the transform container (no logic: the shared step CLI does the work; `gc` is
the deployed lake's garbage collector, `baton_transform.gc`)."""

from baton.stepcli import build_app
from baton_transform.gc import gc_cmd
from baton_transform.job import STEP

app = build_app(
    STEP,
    "Transform: apply the dataset's transform to the committed raw partition, "
    "drop repeated keys to quarantine, commit staged/<dataset>/dt=<date>/.",
)
app.command("gc")(gc_cmd)
