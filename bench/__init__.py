"""Benchmarks (not tests): scripted callers against the real system and its baselines."""
