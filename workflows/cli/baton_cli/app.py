"""`baton`, the operator command line: the one composition root that mounts every verb.

Each verb lives in `baton_cli.commands.<verb>`; nothing else registers commands.
"""

from __future__ import annotations

import typer

from baton_cli.commands import backfill, executions, rerun, run, seed, serve, status, summary
from baton_cli.commands import workflow as workflow_cmds
from baton_cli.commands.gc import gc_cmd

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="baton: partitioned batch ETL on Google Cloud as microjobs, and its local twin.",
)
app.command("run")(run.run_cmd)
app.command("backfill")(backfill.backfill_cmd)
app.command("rerun")(rerun.rerun_cmd)
app.command("status")(status.status_cmd)
app.add_typer(executions.executions_app, name="executions")
app.command("serve")(serve.serve_cmd)
app.add_typer(workflow_cmds.app, name="workflow")
app.command("seed")(seed.seed_cmd)
app.command("summary")(summary.summary_cmd)
app.command("gc")(gc_cmd)
