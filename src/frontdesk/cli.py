"""The `frontdesk` command: serve | worker | migrate | create-admin | demo | send-test-mail |
version."""

from __future__ import annotations

import asyncio
import signal
import sys

import click
from pydantic import ValidationError

from frontdesk import __version__
from frontdesk.settings import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            click.echo(f"configuration error: {error['msg']}", err=True)
        sys.exit(2)


@click.group(help="Frontdesk: a self-hostable omnichannel customer-support inbox.")
def main() -> None:
    pass


@main.command(help="Print the version.")
def version() -> None:
    click.echo(f"frontdesk {__version__}")


@main.command(help="Bring the database schema up to date.")
def migrate() -> None:
    from frontdesk.store.migrate import upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    click.echo("database is up to date")


@main.command(help="Run the web app, realtime hub and (unless --no-worker) the worker.")
@click.option("--host", default=None, help="Listen address (FRONTDESK_HOST).")
@click.option("--port", default=None, type=int, help="Port (FRONTDESK_PORT).")
@click.option("--no-worker", is_flag=True, help="Web only: leave jobs to `frontdesk worker`.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the schema on start.")
def serve(host: str | None, port: int | None, no_worker: bool, no_migrate: bool) -> None:
    import uvicorn

    from frontdesk.app import create_app
    from frontdesk.logs import configure_logging
    from frontdesk.store.migrate import upgrade

    settings = load_settings()
    # The flags win over the environment, and links built from host and port must agree.
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    configure_logging(settings.log_format, settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not no_migrate:
        upgrade(settings.effective_database_url)
    app = create_app(settings, with_worker=not no_worker)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        # permessage-deflate keeps a zlib compressor per socket (~45 KiB each, measured in
        # bench/widget.py) for frames of a few hundred bytes: docs/decisions/0012.
        ws_per_message_deflate=False,
    )


@main.command(help="Run only the background worker (deliveries, snooze wake-ups).")
def worker() -> None:
    from frontdesk.app import build_services, running
    from frontdesk.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running(build_services(settings), with_worker=True):
            click.echo("worker running", err=True)
            await stop.wait()

    asyncio.run(_main())


@main.command("create-admin", help="Create a user who administers a new workspace.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--workspace", "workspace_name", default="My workspace", show_default=True)
def create_admin(email: str, name: str, password: str, workspace_name: str) -> None:
    from frontdesk.actions.users import do_create_user, do_create_workspace
    from frontdesk.domain.errors import DomainError
    from frontdesk.store.db import Database

    settings = load_settings()

    async def _main() -> int:
        db = Database(settings.effective_database_url)
        try:
            async with db.write() as tx:
                user_id = await do_create_user(tx, email, name, password)
                return await do_create_workspace(tx, workspace_name, user_id)
        finally:
            await db.dispose()

    try:
        workspace_id = asyncio.run(_main())
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"created {email}, administrator of workspace {workspace_id}")


@main.command(help="Fill the database with a demo workspace (idempotent: skipped if present).")
def demo() -> None:
    from frontdesk.demo import create_demo
    from frontdesk.store.migrate import upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    for line in asyncio.run(create_demo(settings)):
        click.echo(line)


def _address(_: click.Context, param: click.Parameter, value: str) -> str:
    from email.utils import parseaddr

    if "@" not in parseaddr(value)[1]:
        raise click.BadParameter(f"{value!r} is not an email address (name@domain)")
    return value


@main.command("send-test-mail", help="Send a test mail to an SMTP server (the demo's listener by default).")
@click.option(
    "--to", "to", required=True, callback=_address, help="Recipient, e.g. support@demo-shop.mail.localhost."
)
@click.option(
    "--from",
    "sender",
    default="Test Customer <customer@example.com>",
    show_default=True,
    callback=_address,
    help="Sender; replies go back to it.",
)
@click.option("--subject", default="Test mail", show_default=True)
@click.option(
    "--text", default="Hello! This is a test mail from frontdesk send-test-mail.", show_default=True
)
@click.option("--host", default="127.0.0.1", show_default=True, help="SMTP server.")
@click.option("--port", default=2525, type=click.IntRange(1, 65535), show_default=True, help="Its port.")
def send_test_mail(to: str, sender: str, subject: str, text: str, host: str, port: int) -> None:
    from frontdesk.channels.email.test_mail import SendFailed, send_test_mail

    try:
        answer = send_test_mail(host, port, sender=sender, to=to, subject=subject, text=text)
    except SendFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"sent to {to} through {host}:{port}: {answer}")
