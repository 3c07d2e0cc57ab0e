"""baton load: validated partition -> warehouse partition (replaced whole) and its marts."""
