"""The Prefect flows: daily, targeted and monthly runs, each a few tasks in order."""
