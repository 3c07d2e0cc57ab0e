"""Container entrypoint: `python -m baton_extract run --date YYYY-MM-DD`."""

from baton_extract.cli import app

app(prog_name="baton_extract")
