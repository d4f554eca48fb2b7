"""Performance measurements; run each with ``python -m benchmarks.<name>`` (see README.md)."""
