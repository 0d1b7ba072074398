"""Signing in on the web: passwords, sessions, CSRF, attempt limits and the page guards."""
