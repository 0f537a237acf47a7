"""Email: sending (outbound.py); the email channel adds receiving and threading."""
