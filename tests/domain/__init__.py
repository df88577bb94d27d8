"""Tests of the pure domain rules (backend/domain)."""
