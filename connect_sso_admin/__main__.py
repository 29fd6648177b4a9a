"""Entry point for ``python -m connect_sso_admin``."""

from connect_sso_admin.cli import main

raise SystemExit(main())
