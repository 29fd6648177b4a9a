"""The deployment pipeline's identity: what it may do, and a check that it can do no more (docs/deploy.md)."""
