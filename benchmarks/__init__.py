"""Runnable benchmark scripts (``python benchmarks/bench_*.py``) and what they share."""
