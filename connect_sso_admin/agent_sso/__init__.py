"""Amazon Connect agent and administrator SAML single sign-on, as code.

Checks IdP federation metadata and Connect user names, renders the CloudFormation template in infra/aws/,
prints relay state URLs and configures the Entra ID enterprise application through Microsoft Graph.
Run ``python -m connect_sso_admin agent-sso --help``.
"""
