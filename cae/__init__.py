"""Entry points: the ``cae`` command line, ``cae serve`` and the webhook receiver."""
