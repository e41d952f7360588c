"""Benchmarks: what a run costs as the cooperative grows (see ``bench/README.md``)."""
