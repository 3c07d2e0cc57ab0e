"""One module per `baton` verb; `baton_cli.app` mounts them all."""
