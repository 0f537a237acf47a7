"""The email channel's admin API and public files, registered by wiring.routers()."""
