"""baton's local twin and operator tools: the Workflows engine, the local job runner, `baton`."""
