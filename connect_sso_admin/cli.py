"""One entry point for the operator commands.

python -m connect_sso_admin doctor ...      check a deployment end to end (docs/operations.md)
python -m connect_sso_admin agent-sso ...   agent and administrator SAML SSO (docs/agent-sso.md)
python -m connect_sso_admin pipeline-check ...  is the deploy pipeline's identity narrowed? (docs/deploy.md)
python -m connect_sso_admin chat-history forget --tenant <tid> --user <oid>  erase a person's chat history
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = __doc__.strip() + "\n\n`python -m connect_sso_admin COMMAND --help` tells more.\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "doctor":
        from connect_sso_admin.doctor.cli import main as doctor

        return doctor(rest)
    if command == "agent-sso":
        from connect_sso_admin.agent_sso.cli import main as agent_sso

        return agent_sso(rest)
    if command == "pipeline-check":
        from connect_sso_admin.pipeline.check import main as pipeline_check

        return pipeline_check(rest)
    if command == "chat-history":
        from connect_sso_admin.chat_history import main as chat_history

        return chat_history(rest)
    sys.stderr.write(f"unknown command {command!r}\n\n{USAGE}")
    return 2
