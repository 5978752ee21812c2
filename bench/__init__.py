"""Benchmarks of the scan API and the photo → answer path. Run with `make bench`; see docs/benchmarks.md."""
