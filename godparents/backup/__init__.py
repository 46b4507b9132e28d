"""Encrypted backups: ``flask --app godparents backup create|restore|verify|prune|new-key``.

``archive`` writes and reads the encrypted file format, ``snapshot`` takes a consistent copy of
the database and restores one (SQLite's online backup API; ``pg_dump``/``pg_restore``),
``retention`` decides which files to keep, ``keys`` finds the backup key, ``cli`` wires it up.
"""
