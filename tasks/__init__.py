"""The Prefect tasks: thin wrappers that run one service function each, on the whole batch."""
