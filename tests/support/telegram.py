"""The Telegram gateway process, run in a thread of the test against the fake Bot API."""
from __future__ import annotations

import asyncio
import dataclasses
import threading
from contextlib import contextmanager
from typing import Iterator

from bot.telegram.runner import serve
from desk.config import Settings
from desk.db import Database
from tests.support.desk import TEST_SECRET_KEY
from tests.support.fake_telegram import TOKEN, FakeTelegram


def gateway_settings(fake: FakeTelegram, database: Database, rasa_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database.url, rasa_url=rasa_url, telegram_bot_token=TOKEN,
        telegram_api_url=fake.base_url, telegram_file_url=fake.base_file_url,
        telegram_delivery_interval=0.2, telegram_assistant_timeout=20.0,
        privacy_url="http://127.0.0.1:8000/privacy", secret_key=TEST_SECRET_KEY,
    )
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_gateway(settings: Settings, database: Database) -> Iterator[None]:
    """`dialoga telegram` in a thread with its own event loop; stopped (cleanly) on exit."""
    loop_ready = threading.Event()
    state: dict = {}

    def run() -> None:
        async def main() -> None:
            state["loop"] = asyncio.get_running_loop()
            state["stop"] = asyncio.Event()
            loop_ready.set()
            await serve(settings, database, state["stop"])

        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the test below
            state["error"] = error
            loop_ready.set()

    thread = threading.Thread(target=run, name="telegram-gateway", daemon=True)
    thread.start()
    loop_ready.wait(10)
    try:
        if "error" in state:
            raise state["error"]
        yield
    finally:
        if "stop" in state:
            state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        if "error" in state:
            raise state["error"]


def with_settings(settings: Settings, **changes) -> Settings:
    return dataclasses.replace(settings, **changes)
