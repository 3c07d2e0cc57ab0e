"""baton_cli: the `baton` operator command. `app` is its one composition root."""
