"""Container entrypoint: `python -m baton_load run --date YYYY-MM-DD`."""

from baton_load.cli import app

app(prog_name="baton_load")
