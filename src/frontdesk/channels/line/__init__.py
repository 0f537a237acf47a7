"""The LINE channel: a LINE Official Account through the Messaging API (docs/channels/line.md)."""
