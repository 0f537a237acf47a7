"""A channel that lives outside Frontdesk's source tree, for tests/test_channel_seam.py: one
package, found through the "frontdesk.channels" entry point, no line in the registry."""
