"""Settings: the ``cae.toml`` configuration, the tables' and fields' names, a run's defaults.

Below documents and integrations, above the charter: it reads files and names things, and
imports nothing of the project but ``charter``.
"""
