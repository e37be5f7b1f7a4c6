"""Benchmarks of a full dry run: requests, time at a latency, behaviour under a rate limit, the pure diff.

    uv run python -m benchmarks            # everything (a few minutes on 2 cores)
    uv run python -m benchmarks --quick    # small sizes, seconds
    uv run python -m benchmarks --only 2   # one benchmark

Results are printed as tables and written to `benchmarks/results.json`; docs/benchmarks.md explains them.
"""
