"""Benchmarks: each measures our code against a baseline on the same data in the same run."""
