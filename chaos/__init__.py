"""`make chaos`: fault injection against the real steps, engine and CLI, on a local and a
`gs://` lake - kill -9 of step processes, SIGKILL of the orchestrator, overlapping backfills,
concurrent forced reruns, torn files, a full disk and a flaky GCS - each followed by reruns
until the run converges and a check of every invariant against a clean reference run."""
