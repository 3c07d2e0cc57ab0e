"""Container entrypoint: `python -m baton_validate run --date YYYY-MM-DD`."""

from baton_validate.cli import app

app(prog_name="baton_validate")
