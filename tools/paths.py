"""Where things are in a checkout, for the development tools (one home for the repository root)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEV_FOLDER = REPO_ROOT / ".dev"  # generated development files (certificates); git-ignored
