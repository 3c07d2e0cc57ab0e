"""The workflow definition: the model and its loader, and the static checker (what deploy rejects)."""
