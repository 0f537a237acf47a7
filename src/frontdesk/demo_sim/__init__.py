"""DEMO EQUIPMENT, never production: simulated providers for `make demo`.

With FRONTDESK_DEMO_SIMULATED_CHANNELS=1 (refused outside dev mode) `frontdesk serve` also answers
as the providers of the channels that have a simulator here, each under /demo/sim/<channel>/ of
its own address (no other port), and serves /demo/customer (http/demo_customer.py), where one
writes as a customer and sees the agent's replies arrive. The channel itself is not told: its
installation setting for the provider's address (FRONTDESK_TELEGRAM_API_BASE …) points at the
simulator in `make demo`'s environment, so the demo runs the channel's real code: registration,
signed webhooks into the real webhook route, sending through the real delivery jobs.
docs/decisions/0045 says why.

Adding a channel's simulator
----------------------------
1. One module, `demo_sim/<channel>.py`, with a `Simulator` subclass (base.py):
   - `channel_type`, `label` (the provider's name as a customer knows it);
   - `demo_inbox()`: the name ("<Label> (simulated)"), settings and secrets `make demo` creates
     the inbox with;
   - `router()`: the provider's HTTP API, the calls the channel's adapter makes (paths under the
     simulator's base address); what the business sends is kept with `record(...)`;
   - `customer_key(name)`: the customer's id at the provider, stable for a name;
   - `inbound(state, uid, name, text)`: the webhook request the provider would make for a
     customer's text, signed as the provider signs it;
   - optionally `takes_files = True` and `inbound_file(...)`: a customer's file, which the
     simulator then serves through the provider's media API (store.keep_file / file_path);
   - `console(uid, webhook_url, settings, secrets)` if the provider learns something from its console
     rather than from an API call (a channel secret, a token): kept in the simulator's state.
2. One line in `registry.py` SIMULATORS.
3. In the Makefile's DEMO_ENV, the channel's provider address setting pointed at
   http://127.0.0.1:$(PORT)/demo/sim/<channel> (`frontdesk demo` warns when it is not).
"""
