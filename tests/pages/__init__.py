"""H5 page tests (Flask test client)."""
