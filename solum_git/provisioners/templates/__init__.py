"""HOT templates and user data (a package so that setuptools ships them)."""
