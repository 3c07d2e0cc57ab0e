"""baton validate: staged partition -> validated rows + quarantined rows with the rules broken."""
