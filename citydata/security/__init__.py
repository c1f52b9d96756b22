"""Audit trail, request context and security headers."""
