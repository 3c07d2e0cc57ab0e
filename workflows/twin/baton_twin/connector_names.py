"""The names of the connectors the twin implements, as the YAML calls them: importable without
the connectors themselves (which load the Cloud Run client's messages), so `baton workflow
check` and the planner name them cheaply."""

RUN_JOB = "googleapis.run.v2.projects.locations.jobs.run"
"""Cloud Run Admin API v2 jobs.run, waiting for the execution (the connector's default)."""
GET_OBJECT = "googleapis.storage.v1.objects.get"
"""Cloud Storage JSON API objects.get (the workflow reads `_attempt.json` records)."""
