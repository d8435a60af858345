"""`python -m cli ...` is `settle ...` (used to start child processes with this interpreter)."""

from cli.main import main

main()
