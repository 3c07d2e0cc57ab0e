"""Running a workflow: executor, scopes and parallel branches, memory accounting, clock, records."""
