"""Replacing an email inbox's DKIM key (E2). Its own action, not part of rotating the inbox's
secrets: the public key lives in the customer's DNS, so a new key fails every signature until
the record there is updated; the administrator does this knowingly."""

from __future__ import annotations

from frontdesk.access import Actor, access_inbox_by_id
from frontdesk.actions.audit import do_audit
from frontdesk.security import SecretBox
from frontdesk.store import tables as t
from frontdesk.store.db import Tx

__all__ = ["check_set_dkim_key"]


async def check_set_dkim_key(tx: Tx, actor: Actor, box: SecretBox, inbox_id: int, private_pem: str) -> None:
    """Store the new private key among the inbox's secrets; the caller made the key (and checked
    the inbox is an email inbox in own_address mode)."""
    actor.require_admin()
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    secrets = {**box.open(inbox["secrets_encrypted"]), "dkim_private_key": private_pem}
    await tx.conn.execute(
        t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(secrets_encrypted=box.seal(secrets))
    )
    # Like every secret change: the name of the secret, never its value.
    await do_audit(
        tx, actor.workspace_id, actor.user_id, "inbox.secrets", "inbox", inbox_id, fields=["dkim_private_key"]
    )
