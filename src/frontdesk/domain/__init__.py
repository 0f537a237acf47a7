"""Plain types and rules of the inbox: no I/O, no HTTP, no provider code."""
