"""The Google APIs a baton deployment needs enabled: one list, which infra enables, `baton
doctor` checks and the twin reports; and the one endpoint several parts call."""

BASE_APIS = (
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
    "workflowexecutions.googleapis.com",
    "workflows.googleapis.com",
)

EXECUTIONS_API = "https://workflowexecutions.googleapis.com/v1"
"""The Workflows Executions API: the scheduler's target (.../workflows/<w>/executions), what
doctor expects the scheduler to call, and what the twin reports for it
(https://cloud.google.com/workflows/docs/reference/executions/rest)."""
