"""The web channel: see adapter.py."""
