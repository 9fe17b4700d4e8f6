"""Accuracy and speed benchmarks of the debtor-rights assistant (`make bench`).

Entry point: ``python -m bench.run`` (see bench/run.py and docs/benchmarks.md).
"""
