"""Benchmarks, run from the repository root as `python -m bench.<name>` (`make bench` runs
them all in their quick configuration). Each ends with one summary line; the tools they
share are in tests/support and bench/common.py."""
