"""The email channel: see adapter.py."""
