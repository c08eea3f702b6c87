"""The Telegram gateway's handlers and its python-telegram-bot Application.

Thin on purpose: commands are mapped to what the assistant understands, text and
button presses go to the assistant through desk.services.conversations, and its
replies come back rendered by rendering.py. The gateway decides nothing about the
conversation; it only adds what is Telegram's own: /start, files, typing."""
from __future__ import annotations

import asyncio
import io
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Dict, List, Optional

from telegram import LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.telegram.rendering import OutgoingMessage, PayloadMap, render_replies, render_text
from bot.telegram.texts import language_from, language_hint, say, size_in_words
from desk.config import Settings
from desk.db import Database, DatabaseUnavailable
from desk.services import tickets
from desk.services.conversations import AssistantUnavailable, AsyncAssistantClient, InboundMessage, unavailable_text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TYPING_REPEAT_SECONDS = 4.0  # Telegram shows "typing" for 5 s
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
# Commands as the assistant understands them (domain.yml intents, or text it recognises).
ASSISTANT_COMMANDS = {"aiuto": "/help", "help": "/help", "operatore": "/request_human", "operator": "/request_human",
                      "calcola": "/choose_check", "calculate": "/choose_check",
                      "bot": "/back_to_bot", "avvisi": "/avvisi", "notices": "/avvisi"}
STATUS_COMMANDS = ("stato", "status")
MAX_CONCURRENT_UPDATES = 32


@dataclass(frozen=True)
class OpenTicket:
    id: int
    ref: str


@dataclass(frozen=True)
class IncomingFile:
    file_id: str
    filename: str
    content_type: str
    size: Optional[int]


def conversation_id(chat_id: int) -> str:
    """The assistant's sender id for a Telegram chat (InboundMessage.sender_id)."""
    return f"{CHANNEL}-{chat_id}"


def incoming_file(message: Message) -> Optional[IncomingFile]:
    """The document or photo (largest size) of a message: what can be attached to a ticket."""
    if message.document is not None:
        document = message.document
        return IncomingFile(document.file_id, document.file_name or f"document-{message.message_id}",
                            document.mime_type or "application/octet-stream", document.file_size)
    if message.photo:
        photo = message.photo[-1]
        return IncomingFile(photo.file_id, f"photo-{message.message_id}.jpg", "image/jpeg", photo.file_size)
    return None


class OnePerChatUpdateProcessor(BaseUpdateProcessor):
    """Different chats are served concurrently (one slow answer does not hold up everyone),
    while the updates of one chat are handled one at a time, in the order they came."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: Dict[object, asyncio.Lock] = {}
        self._users: Dict[object, int] = {}  # updates holding or waiting for each chat's lock

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        chat = getattr(update, "effective_chat", None)
        key = chat.id if chat is not None else None
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramGateway:
    def __init__(self, settings: Settings, database: Database, assistant: AsyncAssistantClient,
                 payloads: Optional[PayloadMap] = None) -> None:
        self.settings = settings
        self.database = database
        self.assistant = assistant
        self.payloads = payloads or PayloadMap()

    # -- the Application ------------------------------------------------------------------

    def build_application(self) -> Application:
        defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        application = (
            Application.builder()
            .token(self.settings.telegram_bot_token)
            .base_url(self.settings.telegram_api_url)
            .base_file_url(self.settings.telegram_file_url)
            .defaults(defaults)
            .read_timeout(self.settings.telegram_read_timeout)
            .concurrent_updates(OnePerChatUpdateProcessor())
            .build()
        )
        self.register(application)
        return application

    def register(self, application: Application) -> None:
        application.add_handler(CommandHandler("start", self.on_start, filters=PRIVATE))
        application.add_handler(CommandHandler(list(ASSISTANT_COMMANDS), self.on_assistant_command, filters=PRIVATE))
        application.add_handler(CommandHandler(list(STATUS_COMMANDS), self.on_status, filters=PRIVATE))
        application.add_handler(MessageHandler(PRIVATE & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(PRIVATE & filters.TEXT, self.on_text))
        application.add_handler(MessageHandler(PRIVATE & filters.ATTACHMENT, self.on_file))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)

    # -- handlers ---------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        language = language_from(update.effective_user.language_code if update.effective_user else None)
        text = say("start", language, privacy_url=self.settings.privacy_url)
        buttons = [{"title": say("button_human", language), "payload": "/request_human"}]
        await self.send(context.bot, update.effective_chat.id, render_replies([{"text": text, "buttons": buttons}], self.payloads))

    async def on_assistant_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        command = update.effective_message.text.split()[0].lstrip("/").split("@")[0].lower()
        await self.forward(update, context, ASSISTANT_COMMANDS[command])

    async def on_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reference = " ".join(context.args or []).strip()
        if not reference:
            language = language_from(update.effective_user.language_code if update.effective_user else None)
            await self.send(context.bot, update.effective_chat.id, render_text(say("status_needs_ref", language)))
            return
        await self.forward(update, context, f"stato {reference}")

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.forward(update, context, "/help")

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.forward(update, context, update.effective_message.text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            await query.answer()  # stops the button's spinner
        except TelegramError as error:
            log.info("callback query not answered: %s", error)
        if query.message is None or update.effective_chat is None or update.effective_chat.type != "private":
            return
        # The choice is made: the buttons go, so that an old question cannot be answered twice.
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as error:
            log.info("could not remove the keyboard of a pressed button: %s", error)
        payload = self.payloads.payload(query.data or "")
        if payload is None:
            language = language_from(update.effective_user.language_code if update.effective_user else None)
            await self.send(context.bot, update.effective_chat.id, render_text(say("button_expired", language)))
            return
        await self.forward(update, context, payload)

    async def on_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat_id = update.effective_chat.id
        language = language_from(update.effective_user.language_code if update.effective_user else None)
        ticket = await self._open_ticket(chat_id)
        incoming = incoming_file(message)
        if ticket is None or incoming is None:
            await self.send(context.bot, chat_id, render_text(say("text_only", language)))
            return
        await self.send(context.bot, chat_id, render_text(await self._attach(context, ticket, incoming, message.caption, language)))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update %s failed", getattr(update, "update_id", "-"), exc_info=context.error)

    # -- talking to the assistant --------------------------------------------------------------

    async def forward(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        chat_id = update.effective_chat.id
        code = update.effective_user.language_code if update.effective_user else None
        inbound = InboundMessage(channel=CHANNEL, address=str(chat_id), text=text, language_hint=language_hint(code),
                                 message_key=f"telegram-update-{update.update_id}")
        async with self.typing(context.bot, chat_id):
            try:
                replies = await self.assistant.route(inbound)
            except AssistantUnavailable as error:
                log.warning("assistant unavailable for chat %s: %s", chat_id, error)
                await self.send(context.bot, chat_id, render_text(unavailable_text(language_from(code))))
                return
        await self.send(context.bot, chat_id, render_replies(replies, self.payloads))

    @asynccontextmanager
    async def typing(self, bot, chat_id: int) -> AsyncIterator[None]:
        """"typing…" in the user's chat until the block ends."""

        async def keep_typing() -> None:
            while True:
                try:
                    await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
                except TelegramError as error:
                    log.info("typing indicator not sent to %s: %s", chat_id, error)
                await asyncio.sleep(TYPING_REPEAT_SECONDS)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    @staticmethod
    async def send(bot, chat_id: int, messages: List[OutgoingMessage]) -> None:
        for message in messages:
            await bot.send_message(chat_id=chat_id, text=message.html, reply_markup=message.keyboard)

    # -- files for the operator --------------------------------------------------------------------

    async def _open_ticket(self, chat_id: int) -> Optional[OpenTicket]:
        def find() -> Optional[OpenTicket]:
            with self.database.session() as session:
                ticket = tickets.open_ticket_for_conversation(session, conversation_id(chat_id))
                return OpenTicket(ticket.id, ticket.ref) if ticket else None

        try:
            return await asyncio.to_thread(find)
        except DatabaseUnavailable as error:
            log.warning("no ticket lookup for chat %s: %s", chat_id, error)
            return None

    async def _attach(self, context, ticket: OpenTicket, incoming: IncomingFile, caption: Optional[str], language: str) -> str:
        limit = self.settings.telegram_attachment_max_bytes
        too_large = say("too_large", language, ref=ticket.ref, limit=size_in_words(limit))
        if incoming.size is not None and incoming.size > limit:
            return too_large
        try:
            telegram_file = await context.bot.get_file(incoming.file_id)
            if telegram_file.file_size is not None and telegram_file.file_size > limit:
                return too_large
            buffer = io.BytesIO()
            await telegram_file.download_to_memory(buffer)
        except TelegramError as error:
            log.warning("file for %s not downloaded: %s", ticket.ref, error)
            return say("attach_failed", language, ref=ticket.ref)
        data = buffer.getvalue()
        if len(data) > limit:
            return too_large

        def store() -> None:
            with self.database.session() as session:
                ticket_row = tickets.find_by_ref(session, ticket.ref)
                tickets.add_attachment(session, ticket_row, incoming.filename, incoming.content_type, data, caption=caption)

        try:
            await asyncio.to_thread(store)
        except (DatabaseUnavailable, tickets.TicketClosed) as error:
            log.warning("attachment for %s not stored: %s", ticket.ref, error)
            return say("attach_failed", language, ref=ticket.ref)
        return say("attached", language, name=incoming.filename, ref=ticket.ref)
