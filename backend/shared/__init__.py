"""Helpers every layer may use: the clock and Beijing time (`clock`), pagination (`pagination`), a bounded
least-recently-used map (`lru`)."""
