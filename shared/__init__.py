"""connect-sso core: Entra access-token verification, claim mapping and Amazon Connect contact tokens."""
