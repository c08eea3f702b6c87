"""The gateway process: the Application, fed by long polling (default) or by the updates
the desk's webhook stored, and the outbox delivery loop beside it."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from typing import Optional, Set

from telegram import Update
from telegram.ext import Application

from bot.telegram.delivery import delivery_loop
from bot.telegram.gateway import TelegramGateway
from desk.config import Settings
from desk import log_redaction
from desk.db import Database, DatabaseUnavailable
from desk.services import telegram_updates
from desk.services.conversations import AsyncAssistantClient
from desk.startup_checks import secret_key_problem

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
WEBHOOK_INBOX_SECONDS = 0.3  # how often the webhook's stored updates are looked at
POLLING_TIMEOUT_SECONDS = 10  # long polling: getUpdates waits this long for news


class ConfigurationError(ValueError):
    pass


def update_lease_seconds(settings: Settings) -> float:
    """How long a gateway holds a webhook update: longer than handling it can take (the
    assistant's answer, then sending it), so that only a dead gateway's updates are taken over."""
    return 2 * settings.telegram_assistant_timeout + 4 * settings.telegram_read_timeout + 10


def webhook_url(settings: Settings) -> str:
    return settings.telegram_webhook_url or f"{settings.public_url}/telegram/webhook"


def check(settings: Settings) -> None:
    problem = secret_key_problem(settings)
    if problem:
        raise ConfigurationError(f"the Telegram gateway refuses to start: {problem}")
    if not settings.telegram_bot_token:
        raise ConfigurationError("TELEGRAM_BOT_TOKEN is not set")
    if settings.telegram_mode == "webhook" and not settings.telegram_webhook_secret:
        raise ConfigurationError("webhook mode needs TELEGRAM_WEBHOOK_SECRET")


async def serve(settings: Settings, database: Database, stop: asyncio.Event,
                gateway: Optional[TelegramGateway] = None) -> None:
    """Run until `stop` is set."""
    check(settings)
    assistant = AsyncAssistantClient(settings.rasa_url, timeout=settings.telegram_assistant_timeout,
                                     actions_url=settings.actions_url)
    gateway = gateway or TelegramGateway(settings, database, assistant)
    application = gateway.build_application()
    try:
        async with application:  # initialize (getMe) ... shutdown
            await application.start()
            tasks = [asyncio.create_task(
                delivery_loop(application.bot, database, settings.telegram_delivery_interval, stop))]
            if settings.telegram_mode == "webhook":
                await application.bot.set_webhook(
                    url=webhook_url(settings), secret_token=settings.telegram_webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                tasks.append(asyncio.create_task(
                    webhook_inbox_loop(application, database, stop, update_lease_seconds(settings))))
            else:
                await application.bot.delete_webhook()
                await application.updater.start_polling(
                    timeout=POLLING_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES,
                )
            log.info("telegram gateway running (%s) as @%s", settings.telegram_mode, application.bot.username)
            await stop.wait()
            if application.updater.running:
                await application.updater.stop()
            await asyncio.gather(*tasks)
            await application.stop()
    finally:
        await assistant.close()


async def webhook_inbox_loop(application: Application, database: Database, stop: asyncio.Event,
                             lease_seconds: float) -> None:
    """Hand the updates the desk's webhook stored to the Application, in order; each is
    marked processed once its handlers ran (a crash before that handles it again). Updates are
    claimed for `lease_seconds`, so several gateways share the work without doing any twice."""
    in_flight: Set[int] = set()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def handle(update_id: int, update: Update) -> None:
        try:
            await application.update_processor.process_update(update, application.process_update(update))
        finally:
            try:
                await asyncio.to_thread(_mark_processed, database, update_id)
            except DatabaseUnavailable as error:
                log.warning("update %s handled but not marked: %s", update_id, error)
            in_flight.discard(update_id)

    while not stop.is_set():
        try:
            for update_id, payload in await asyncio.to_thread(_claim, database, holder, lease_seconds):
                if update_id in in_flight:
                    continue
                try:
                    update = Update.de_json(payload, application.bot)
                except Exception as error:  # noqa: BLE001 (whatever the library cannot read must not stop the loop)
                    log.warning("webhook update %s is not a Telegram update (%s): skipped", update_id, type(error).__name__)
                    await asyncio.to_thread(_mark_processed, database, update_id)
                    continue
                in_flight.add(update_id)
                application.create_task(handle(update_id, update))
        except DatabaseUnavailable as error:
            log.warning("webhook updates not reachable: %s", error)
        try:
            await asyncio.wait_for(stop.wait(), timeout=WEBHOOK_INBOX_SECONDS)
        except asyncio.TimeoutError:
            pass
    while in_flight:
        await asyncio.sleep(0.05)


def _claim(database: Database, holder: str, lease_seconds: float):
    with database.session() as session:
        return telegram_updates.claim_pending(session, holder, lease_seconds)


def _mark_processed(database: Database, update_id: int) -> None:
    with database.session() as session:
        telegram_updates.mark_processed(session, update_id)


def main(settings: Optional[Settings] = None) -> None:
    """The `dialoga telegram` process: stops cleanly on SIGINT/SIGTERM."""
    settings = settings or Settings.from_env()
    # Every Bot API URL holds the token: no log line may show it.
    log_redaction.configure(settings)
    check(settings)
    database = Database.from_settings(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, database, stop)

    try:
        asyncio.run(run())
    finally:
        database.dispose()
