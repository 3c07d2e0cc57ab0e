"""baton_twin: the local GCP. The Cloud Run Jobs runner, the connectors bound to it (`jobs.run`,
`objects.get`), an engine wired to a lake, and `baton serve`'s REST/gRPC fronts."""
