"""Clients for outside services, each behind an interface with a sandbox for development and tests."""
