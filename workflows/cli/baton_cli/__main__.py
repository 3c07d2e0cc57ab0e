"""`python -m baton_cli`: the same as the `baton` command."""

from baton_cli.app import app

app(prog_name="baton")
