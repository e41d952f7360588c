"""The logger a service writes to: a standard one, or Prefect's run logger when a task calls."""

from __future__ import annotations

import logging

#: Prefect's ``get_run_logger()`` is a ``LoggerAdapter``; outside Prefect, a plain logger.
Logger = logging.Logger | logging.LoggerAdapter  # type: ignore[type-arg]
