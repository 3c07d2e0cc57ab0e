"""The published Cloud Workflows and Cloud Run limits baton relies on: one home for each number,
with its source, imported by the engine, the twin, the planner, `baton.jobs` and infra.

Dependency-free on purpose (the engine imports nothing else first-party). Confidence marks as in
`../shared/reference/gcp-facts.md`: [D] Google's documentation, [S] secondary sources only.
"""

from __future__ import annotations

# -- Cloud Workflows: system limits, https://cloud.google.com/workflows/quotas ("System limits")

# All variables, arguments and events of one execution [S]+[D]. The docs say "512 KB" without
# defining KB; 512,000 is the stricter reading, so nothing that fits here exceeds 512 x 1024.
WORKFLOW_MEMORY_BYTES = 512_000
# The execution argument [D] Execution.argument, https://cloud.google.com/python/docs/reference/
# workflows/latest/google.cloud.workflows.executions_v1.types.Execution
WORKFLOW_ARGUMENT_BYTES = 32 * 1024
# Workflow source size [D] pulumi-gcp `Workflow.source_contents` and the quotas page.
WORKFLOW_SOURCE_BYTES = 128 * 1024
WORKFLOW_STEPS_PER_EXECUTION = 100_000  # -> ResourceLimitError [S]
WORKFLOW_CONCURRENT_BRANCHES = 20  # branches + iterations running at once per execution [S]
WORKFLOW_PARALLEL_BRANCHES = 10  # branches in one parallel step (the schema allows 2..10) [S]
WORKFLOW_PARALLEL_DEPTH = 2  # nested parallel steps [S]
WORKFLOW_BRANCH_ERRORS = 100  # unhandled exceptions collected per parallel step [S]
WORKFLOW_CALL_DEPTH = 20  # call stack depth -> RecursionError [S]
WORKFLOW_ASSIGNMENTS_PER_STEP = 50  # [S]
WORKFLOW_CONDITIONS_PER_SWITCH = 50  # [S]
WORKFLOW_EXPRESSION_CHARS = 400  # characters per expression [S] (emulator notes)
WORKFLOW_HTTP_TIMEOUT_S = 1800.0  # http.* timeout maximum [S]
WORKFLOW_HTTP_DEFAULT_TIMEOUT_S = 300.0  # http.* timeout default [S]
# Connector calls: `connector_params.timeout` default and maximum (one year) [D]
# https://cloud.google.com/workflows/docs/reference/googleapis ("Connector parameters")
CONNECTOR_DEFAULT_TIMEOUT_S = 1800
CONNECTOR_MAX_TIMEOUT_S = 31_536_000

# -- Cloud Run Jobs: https://cloud.google.com/run/quotas [D]

RUN_TASKS_PER_EXECUTION = 10_000
RUN_RUNNING_JOB_EXECUTIONS = 1_000  # per project and region
RUN_TASK_MAX_RETRIES = 10
RUN_TASK_TIMEOUT_S = 168 * 3600  # https://cloud.google.com/run/docs/configuring/task-timeout
# Tasks of one execution running at once: a regional quota whose current value is not
# published [U]; the planner assumes this much and says so.
RUN_TASK_PARALLELISM = 100
