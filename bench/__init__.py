"""Benchmarks: `make bench` (full counts) and `make bench-quick`; results in bench/results/."""
