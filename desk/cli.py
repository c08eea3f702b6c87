"""`dialoga` command line: database migrations, knowledge-base seeding, accounts, the worker."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from desk import log_redaction, migrate
from desk.config import Settings
from desk.db import Database, DatabaseUnavailable
from desk.models import Role
from desk.ops.request_context import configure_logging
from desk.services.directory import seed_directory
from desk.services.checks.parameters import SEED_FILE as CHECK_PARAMETERS_FILE
from desk.services.checks.parameters import seed_parameters
from desk.services.seeding import seed_knowledge
from desk.startup_checks import secret_key_problem


@click.group()
def main() -> None:
    """Dialoga desk administration."""
    log_redaction.configure(Settings.from_env())
    configure_logging(os.environ.get("DIALOGA_LOG_FORMAT", "text").strip().lower() or "text")


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
    """Load data/knowledge/*.yml, the checks' parameters (data/knowledge/checks/parameters.yml) and
    data/directory/service_points.yml; what was edited in the desk is kept."""
    settings = Settings.from_env()
    database = Database.from_settings(settings)
    try:
        with database.session() as session:
            report = seed_knowledge(session, settings.knowledge_dir)
            points = seed_directory(session, settings.directory_file)
            parameters = seed_parameters(session, settings.knowledge_dir / CHECK_PARAMETERS_FILE)
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
    click.echo(
        f"check parameters: {len(parameters.created)} created, {len(parameters.updated)} updated, "
        f"{len(parameters.unchanged)} unchanged, {len(parameters.kept_edited)} kept as edited in the desk"
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
@click.option("--interval", default=10.0, show_default=True, envvar="DIALOGA_WORKER_INTERVAL",
              help="Seconds between rounds (or DIALOGA_WORKER_INTERVAL).")
@click.option("--once", is_flag=True, help="Run one round and exit (a claimed training job runs to its end).")
def worker(interval: float, once: bool) -> None:
    """Background work: register intakes saved while the database was down; send the outbox's
    e-mails (when DIALOGA_SMTP_HOST is set); train, evaluate and record models requested from the
    desk (one job at a time, in a thread); once a day (one worker of the cluster at a time) the
    personal-data retention purge."""
    import os
    import socket
    import time

    from bot.email.delivery import EmailDelivery
    from desk.services.business_hours import BusinessCalendar
    from desk.services.intake_spool import IntakeSpool
    from desk.services.models.runner import BackgroundTrainer, TrainingSetup
    from desk.services.privacy import purge

    settings = Settings.from_env()
    problem = secret_key_problem(settings)
    if problem:
        raise click.ClickException(f"the worker refuses to start: {problem}")
    database = Database.from_settings(settings)
    spool = IntakeSpool(settings.spool_dir)
    calendar = BusinessCalendar.from_env()
    trainer = BackgroundTrainer(database, TrainingSetup.from_settings(settings))
    log = logging.getLogger("dialoga.worker")
    holder = f"{socket.gethostname()}:{os.getpid()}"
    tracker_store = purge.open_tracker_store(settings)
    email = EmailDelivery.from_settings(database, settings) if settings.email_enabled else None
    if email is None:
        log.info("DIALOGA_SMTP_HOST is not set: e-mails wait in the outbox")
    def drain_spool() -> None:
        registered = spool.drain(database, calendar)
        if registered:
            log.info("registered %d intakes saved while the database was unavailable", registered)

    def send_emails() -> None:
        done = email.run_round()
        if done.sent or done.retried or done.failed or done.unconfirmed:
            log.info("e-mails: %d sent, %d to retry, %d failed, %d unconfirmed", len(done.sent), len(done.retried),
                     len(done.failed), len(done.unconfirmed))

    steps = [("intake spool", drain_spool), ("training round", trainer.poll),
             ("privacy purge", lambda: purge.purge_if_due(database, settings.privacy.retention, settings.secret_key,
                                                          holder, tracker_store=tracker_store))]
    if email is not None:
        steps.append(("e-mail delivery", send_emails))
    try:
        while True:
            for name, step in steps:
                run_step(log, name, step)
            if once:
                trainer.join()
                return
            time.sleep(interval)
    finally:
        if tracker_store is not None:
            tracker_store.dispose()
        database.dispose()


def run_step(log: logging.Logger, name: str, step) -> None:
    """One step of a worker round: a database outage or a bug in one step never stops the others
    (the spool must keep draining whatever happens to training)."""
    try:
        step()
    except DatabaseUnavailable as error:
        log.warning("%s skipped: database unavailable (%s)", name, error)
    except Exception:  # noqa: BLE001
        log.exception("%s failed", name)


@main.group()
def privacy() -> None:
    """Personal data: the retention purge."""


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be anonymised or deleted, change nothing.")
def privacy_purge(dry_run: bool) -> None:
    """Anonymise or delete the data older than the retention periods (DIALOGA_RETENTION_*_DAYS); audited."""
    from desk.services.privacy import purge
    from desk.services.privacy.retention import RULE_BY_KIND, DataKind

    settings = Settings.from_env()
    database = Database.from_settings(settings)
    tracker_store = purge.open_tracker_store(settings)
    try:
        summary = purge.run_purge(database, settings.privacy.retention, settings.secret_key, "cli",
                                  dry_run=dry_run, tracker_store=tracker_store)
    finally:
        if tracker_store is not None:
            tracker_store.dispose()
        database.dispose()
    click.echo(f"privacy run {summary.run_id}{' (dry run: nothing changed)' if dry_run else ''}")
    for kind, count in summary.counts.items():
        days = settings.privacy.retention.days[DataKind(kind)]
        verb = "due" if dry_run else "done"
        click.echo(f"  {kind}: {count} {verb} (older than {days} days, before {summary.cutoffs[kind]} UTC)"
                   f" - {RULE_BY_KIND[DataKind(kind)].what_happens_en}")


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


@main.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Back up the desk's database (DIALOGA_DATABASE_URL) into TARGET: pg_dump's custom format for
    PostgreSQL, SQLite's online backup API for SQLite; the desk may keep running."""
    from desk.ops import backup

    try:
        written = backup.backup(Settings.from_env().database_url, target)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {written} ({written.stat().st_size} bytes)")


@main.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the desk's database (DIALOGA_DATABASE_URL) with the backup SOURCE. Stop the desk,
    the worker and the assistants first."""
    from desk.ops import backup

    url = Settings.from_env().database_url
    if not yes:
        click.confirm(f"Replace the content of {make_url(url).render_as_string(hide_password=True)}?", abort=True)
    try:
        backup.restore(url, source)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo("restored")


@main.group()
def deploy() -> None:
    """Production mode (README "Deployment")."""


@deploy.command("nginx")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), default=Path("var/prod/nginx"),
              show_default=True, help="nginx's prefix folder: its configuration, pid and temporary files.")
def deploy_nginx(prefix: Path) -> None:
    """Render deploy/nginx.conf.template with the ports of the environment into PREFIX/nginx.conf."""
    import os

    from desk.ops.nginx import ProxyLayout, render_file

    written = render_file(ProxyLayout.from_env(os.environ), prefix)
    click.echo(f"nginx configuration written to {written}")


@deploy.command("ready")
@click.option("--wait", "wait_seconds", default=0.0, show_default=True,
              help="Ask again until every instance is ready, for at most this many seconds.")
def deploy_ready(wait_seconds: float) -> None:
    """Whether every assistant, action server and the desk of this machine (the ports of the
    environment) can serve, from their readiness routes; exits with 1 when one cannot."""
    import os

    from desk.ops.nginx import ProxyLayout
    from desk.ops.readiness import wait_until_ready

    states = wait_until_ready(ProxyLayout.from_env(os.environ), within=wait_seconds)
    for state in states:
        click.echo(f"{state.name:<16} {'ready' if state.ready else 'NOT READY':<10} {state.status}")
    if not all(state.ready for state in states):
        raise SystemExit(1)
