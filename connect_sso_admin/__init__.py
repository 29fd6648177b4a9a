"""Operator commands for a connect-sso deployment: `python -m connect_sso_admin doctor|agent-sso ...`.

Not part of the function's deployment package (.funcignore); development tools live in tools/.
"""
