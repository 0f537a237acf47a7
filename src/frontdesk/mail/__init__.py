"""The mail-format library: parsing (parse.py and its parts), composing (compose.py, template.py),
DKIM, TLS and sending through an SMTP server (outbound.py). Used by the email channel
(channels/email/) and by system mail (password resets, invitations); it imports no channel."""
