"""Benchmarks (not tests): ``make bench`` runs them; see docs/benchmarks.md for the results."""
