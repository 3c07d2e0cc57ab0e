"""baton on Google Cloud: the Pulumi component resources and the stack they compose."""
