"""The api channel: see adapter.py."""
