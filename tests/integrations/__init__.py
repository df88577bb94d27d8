"""Tests of the clients for outside services, against local stand-ins."""
