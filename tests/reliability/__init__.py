"""Promises kept when things go wrong: faults, bad input at scale, hostile requests, secrets."""
