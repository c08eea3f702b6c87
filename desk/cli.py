"""`dialoga` command line: database migrations and knowledge-base seeding."""
from __future__ import annotations

import logging

import click

from desk import log_redaction, migrate
from desk.config import Settings
from desk.db import Database
from desk.models import Role
from desk.services.directory import seed_directory
from desk.services.seeding import seed_knowledge


@click.group()
def main() -> None:
    """Dialoga desk administration."""
    log_redaction.configure(Settings.from_env())


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    migrate.upgrade(Settings.from_env().database_url, revision)


@db.command("downgrade")
@click.option("--revision", default="base", show_default=True)
def db_downgrade(revision: str) -> None:
    migrate.downgrade(Settings.from_env().database_url, revision)


@main.group()
def kb() -> None:
    """Knowledge base."""


@kb.command("seed")
def kb_seed() -> None:
    """Load data/knowledge/*.yml and data/directory/service_points.yml; what was edited in the desk is kept."""
    settings = Settings.from_env()
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            report = seed_knowledge(session, settings.knowledge_dir)
            points = seed_directory(session, settings.directory_file)
    finally:
        database.dispose()
    click.echo(
        f"knowledge base: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.kept_edited)} kept as edited in the desk"
    )
    click.echo(
        f"service points: {len(points.created)} created, {len(points.updated)} updated, "
        f"{len(points.unchanged)} unchanged, {len(points.kept_edited) + len(points.kept_deleted)} "
        "kept as edited or deleted in the desk"
    )


@main.group()
def users() -> None:
    """Desk accounts."""


@users.command("create")
@click.option("--email", required=True, help="The login (an e-mail address).")
@click.option("--name", "display_name", default="", help="Name shown in the desk.")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.OPERATOR.value, show_default=True)
@click.password_option(help="At least 10 characters; asked twice when not given.")
def users_create(email: str, display_name: str, role: str, password: str) -> None:
    """Create a desk account (the first one with --role admin)."""
    from desk.services import users as user_service

    settings = Settings.from_env()
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            user = user_service.create_user(session, email, display_name, password, Role(role))
            click.echo(f"created {user.role} {user.email}")
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    finally:
        database.dispose()


@main.command()
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
@click.option("--once", is_flag=True, help="Run one round and exit.")
def worker(interval: float, once: bool) -> None:
    """Background work: register intakes saved while the database was down."""
    import time

    from desk.services.business_hours import BusinessCalendar
    from desk.services.intake_spool import IntakeSpool

    settings = Settings.from_env()
    database = Database.from_settings(settings)
    spool = IntakeSpool(settings.spool_dir)
    calendar = BusinessCalendar.from_env()
    log = logging.getLogger("dialoga.worker")
    try:
        while True:
            registered = spool.drain(database, calendar)
            if registered:
                log.info("registered %d intakes saved while the database was unavailable", registered)
            if once:
                return
            time.sleep(interval)
    finally:
        database.dispose()


@main.command()
def telegram() -> None:
    """The Telegram gateway (needs TELEGRAM_BOT_TOKEN): polling or webhook (TELEGRAM_MODE),
    and the delivery of operators' replies to Telegram users."""
    from bot.telegram.runner import ConfigurationError
    from bot.telegram.runner import main as run_gateway

    try:
        run_gateway()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
