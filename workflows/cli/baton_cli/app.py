"""`baton`, the operator command line: the one composition root that mounts every verb.

Each verb lives in `baton_cli.commands.<verb>` and is listed in `baton_cli.verb_group.VERBS`;
nothing else registers commands. A verb's module is imported only when that verb runs, so
`baton --help` starts without polars, the engine or the GCP clients.
"""

from __future__ import annotations

import typer

from baton_cli.verb_group import VerbGroup

app = typer.Typer(
    cls=VerbGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help for the verb list and every verb (baton_cli.verb_group): typer's rich
    # help imports rich's markdown, syntax and traceback modules (about half of `baton
    # --help`'s start-up, and more of a verb's).
    rich_markup_mode=None,
    help="baton: partitioned batch ETL on Google Cloud as microjobs, and its local twin.",
)


@app.callback()
def _root() -> None:
    """baton: partitioned batch ETL on Google Cloud as microjobs, and its local twin."""
