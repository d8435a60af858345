"""Backups of the system of record: a pg_dump with a manifest of what it must restore to, the restore
into an empty database that proves it did, and the retention of scheduled backups.

Reads every feature's tables through SQL only, so it imports no feature.
"""
