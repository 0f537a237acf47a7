"""The email channel's writes (intake, first mails, templates, IMAP state, mail slugs, DKIM
keys); like every action module they import neither http/ nor channels/."""
