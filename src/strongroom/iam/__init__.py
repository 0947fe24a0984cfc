"""Identity: accounts, access keys and request authentication."""
