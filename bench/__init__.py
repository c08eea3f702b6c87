"""Benchmarks (`make bench`): figures written to BENCHMARKS.md."""
