"""The tests: run from the repository root, ``make test`` (all) or ``make test-fast`` (no e2e)."""
