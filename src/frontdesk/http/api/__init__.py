"""REST API under /api/v1: one module per resource; handlers parse → check_*/access_* → serialise."""
