"""The only code that writes: do_* (write and emit in one transaction) and check_* (validate,
authorise, then do_*). One module per concept."""
