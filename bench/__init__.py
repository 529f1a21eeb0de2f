"""Benchmarks for the contact hub; see bench/README.md."""
