"""Email rules without I/O: hosted addresses, DNS records, reply threading, templates."""
