"""Benchmarks for the contact-token function: `python -m bench` (see bench/README.md). Figures, never asserts."""
