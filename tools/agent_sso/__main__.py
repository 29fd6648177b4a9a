"""Entry point for ``python -m tools.agent_sso``."""

from tools.agent_sso.cli import main

raise SystemExit(main())
