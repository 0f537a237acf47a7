"""A generated visitor name ("Istanbul 7") never replaces a name the contact got meanwhile: the
widget's socket (arrival) and its pre-chat session request run at the same time, and the arrival
may have read the contact before the pre-chat form named it (seen as a flaky e2e run where the
agent's list kept "Istanbul 1" instead of the visitor's own name)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from frontdesk.actions.web.visits import _name_visitor
from frontdesk.store import tables as t
from tests.channels.web.test_visits import contact_name, new_visitor, setup
from tests.conftest import Server


async def test_a_name_given_after_the_arrival_read_the_contact_wins(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, ws, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    async with server.services.db.read() as conn:
        stale = (
            (await conn.execute(sa.select(t.contacts).where(t.contacts.c.id == v.contact_id)))
            .mappings()
            .one()
        )
    async with server.services.db.write() as tx:  # the pre-chat form, in between
        await tx.conn.execute(
            t.contacts.update().where(t.contacts.c.id == v.contact_id).values(name="Deniz Kaya")
        )
    async with server.services.db.write() as tx:
        named = await _name_visitor(tx, stale, "Istanbul")
    assert named["name"] == "Deniz Kaya"
    assert await contact_name(server, v.contact_id) == "Deniz Kaya"
    async with server.services.db.read() as conn:
        renames = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.events)
                .where(t.events.c.workspace_id == ws, t.events.c.type == "contact.updated")
            )
        ).scalar_one()
    assert renames == 0  # dashboards are not told of a name that was never given


async def test_a_visitor_still_unnamed_gets_the_generated_name(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    v = await new_visitor(server, inbox)
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.contacts).where(t.contacts.c.id == v.contact_id)))
            .mappings()
            .one()
        )
    async with server.services.db.write() as tx:
        named = await _name_visitor(tx, row, "Istanbul")
    assert named["name"] == f"Istanbul {v.contact_id}"
    assert await contact_name(server, v.contact_id) == f"Istanbul {v.contact_id}"
