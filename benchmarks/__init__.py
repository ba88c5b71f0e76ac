"""Benchmarks: ours vs the reference in one process; run with ``python -m benchmarks [NAME...]``."""
