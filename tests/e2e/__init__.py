"""Whole flow runs on a real Prefect server (the session fixture), every test marked ``e2e``."""
