"""Fictional demo data: `flask --app godparents demo seed [--scale N]`."""
