"""Container entrypoint: `python -m baton_transform run --date YYYY-MM-DD`."""

from baton_transform.cli import app

app(prog_name="baton_transform")
