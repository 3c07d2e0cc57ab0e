"""baton shared library: what every step container and operator tool has in common."""

__version__ = "0.1.0"
