"""`uv run python -m benchmarks [--quick] [--only N]`: see benchmarks/run.py."""

from __future__ import annotations

from benchmarks.run import main

raise SystemExit(main())
