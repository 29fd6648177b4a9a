"""The doctor: one command that checks a real deployment end to end (docs/operations.md, The doctor)."""
