"""The audit trail (S4): who did what, written with the change it describes."""

from __future__ import annotations

from typing import Any

from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow


async def do_audit(
    tx: Tx,
    workspace_id: int,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    **data: Any,
) -> None:
    await tx.conn.execute(
        t.audit_events.insert().values(
            workspace_id=workspace_id,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            data=data,
            created_at=utcnow(),
        )
    )
