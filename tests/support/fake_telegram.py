"""A fake Telegram Bot API server on loopback, for python-telegram-bot's real HTTP client.

It serves the methods the gateway uses (getMe, getUpdates with queued updates,
sendMessage, sendChatAction, answerCallbackQuery, editMessageReplyMarkup, getFile and
the file download, setWebhook, deleteWebhook), records every call, and can be told
to answer a method with an error (429 with retry_after, 5xx, 403, 400) or to answer
late. Tests push updates as a Telegram user would produce them."""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, unquote

TOKEN = "123456789:TEST-token-for-the-fake-bot-api"
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Dialoga", "username": "dialoga_test_bot"}
# Values of these parameters are plain strings even when they look like JSON.
_STRING_PARAMETERS = {"text", "caption", "url", "secret_token", "callback_query_id", "action", "file_id", "parse_mode"}
MAX_LONG_POLL_SECONDS = 0.5  # shorter than Telegram's, so that tests stop quickly


@dataclass
class Call:
    method: str
    params: Dict[str, Any]
    at: float
    status: int = 200
    result: Any = None  # what the server answered (e.g. the sent Message)


@dataclass
class Failure:
    status: int
    description: str
    retry_after: Optional[int] = None
    delay: float = 0.0


@dataclass
class StoredFile:
    content: bytes
    path: str
    size: int


@dataclass
class FakeTelegram:
    calls: List[Call] = field(default_factory=list)
    # Every request as it arrives, before any delay the test asked for (calls: when answered).
    received: List[Call] = field(default_factory=list)
    _updates: List[Dict[str, Any]] = field(default_factory=list)
    _failures: Dict[str, List[Failure]] = field(default_factory=dict)
    _files: Dict[str, StoredFile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._condition = threading.Condition()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as with the real Bot API

            def do_GET(self):  # noqa: N802 (http.server's naming)
                fake._serve(self)

            def do_POST(self):  # noqa: N802
                fake._serve(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> "FakeTelegram":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what the test controls -------------------------------------------------------------

    def fail(self, method: str, status: int, description: str = "", retry_after: Optional[int] = None, times: int = 1) -> None:
        """The next `times` calls of `method` answer this error."""
        with self._condition:
            failure = Failure(status, description or f"error {status}", retry_after)
            self._failures.setdefault(method, []).extend([failure] * times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` answer (successfully) after `seconds`."""
        with self._condition:
            self._failures.setdefault(method, []).extend([Failure(200, "", None, seconds)] * times)

    def add_file(self, content: bytes, name: str = "file.bin", size: Optional[int] = None) -> str:
        """A file users can send; `size` is what Telegram reports (default: the real size)."""
        file_id = f"file-{next(self._ids)}"
        self._files[file_id] = StoredFile(content, f"documents/{file_id}/{name}", len(content) if size is None else size)
        return file_id

    def push(self, update: Dict[str, Any]) -> int:
        with self._condition:
            update = dict(update, update_id=next(self._update_ids))
            self._updates.append(update)
            self._condition.notify_all()
        return update["update_id"]

    def user_writes(self, chat_id: int, text: str, language: str = "it") -> int:
        message = self.user_message(chat_id, language, text=text)
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push({"message": message})

    def user_sends(self, chat_id: int, language: str = "it", **content) -> int:
        """A message with media: photo=[...], document={...}, sticker={...}, location={...}, voice={...}."""
        return self.push({"message": self.user_message(chat_id, language, **content)})

    def user_presses(self, chat_id: int, callback_data: str, message_id: int, language: str = "it") -> int:
        return self.push({"callback_query": {
            "id": f"cb-{next(self._ids)}", "from": self.user(chat_id, language), "chat_instance": f"ci-{chat_id}",
            "data": callback_data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": self.chat(chat_id),
                        "from": BOT_USER, "text": "..."},
        }})

    def user_message(self, chat_id: int, language: str, **content) -> Dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self.chat(chat_id),
                "from": self.user(chat_id, language), **content}

    @staticmethod
    def user(chat_id: int, language: str) -> Dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Anna", "language_code": language}

    @staticmethod
    def chat(chat_id: int) -> Dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "Anna"}

    # -- what the test reads ----------------------------------------------------------------------

    def calls_of(self, method: str, chat_id: Optional[int] = None, ok_only: bool = False) -> List[Call]:
        with self._condition:
            return [call for call in self.calls if call.method == method
                    and (chat_id is None or call.params.get("chat_id") == chat_id)
                    and (not ok_only or call.status == 200)]

    def sent_to(self, chat_id: int) -> List[Dict[str, Any]]:
        """Every message the bot sent successfully to a chat, in order."""
        return [call.params for call in self.calls_of("sendMessage", chat_id, ok_only=True)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "the expected calls") -> Any:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                self._condition.release()
                try:
                    result = predicate()
                finally:
                    self._condition.acquire()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the fake Bot API did not see {what} within {timeout} s; calls: "
                                       f"{[(c.method, c.params.get('text', '')[:60]) for c in self.calls if c.method != 'getUpdates']}")
                self._condition.wait(min(remaining, 0.2))

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> List[Dict[str, Any]]:
        return self.wait_for(lambda: len(self.sent_to(chat_id)) >= count and self.sent_to(chat_id),
                             timeout, f"{count} messages to chat {chat_id}")

    # -- the server ----------------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        path = unquote(request.path.split("?", 1)[0])
        file_prefix = f"/file/bot{TOKEN}/"
        if path.startswith(file_prefix):
            self._download(request, path[len(file_prefix):])
            return
        prefix = f"/bot{TOKEN}/"
        if not path.startswith(prefix):
            self._answer(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        method = path[len(prefix):]
        params = self._params(request)
        with self._condition:
            self.received.append(Call(method, params, time.monotonic()))
            self._condition.notify_all()
            planned = self._failures.get(method) or []
            failure = planned.pop(0) if planned else None
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        status = failure.status if failure is not None else 200
        call = Call(method, params, time.monotonic(), status)
        if status != 200:
            self._record(call)
            body: Dict[str, Any] = {"ok": False, "error_code": status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            self._answer(request, status, body)
            return
        handler = getattr(self, f"_method_{method}", None)
        if handler is None:
            call.status = 404
            self._record(call)
            self._answer(request, 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
            return
        try:
            call.result = handler(params)
        except KeyError as error:
            call.status = 400
            self._record(call)
            self._answer(request, 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"})
            return
        self._record(call)
        result = call.result
        self._answer(request, 200, {"ok": True, "result": result})

    def _record(self, call: Call) -> None:
        with self._condition:
            self.calls.append(call)
            self._condition.notify_all()

    @staticmethod
    def _params(request: BaseHTTPRequestHandler) -> Dict[str, Any]:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            return json.loads(raw or b"{}")
        params: Dict[str, Any] = {}
        for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items():
            value = values[-1]
            if key not in _STRING_PARAMETERS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = json.dumps(body).encode("utf-8")
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stopped long poll, a timeout the test asked for)

    def _download(self, request: BaseHTTPRequestHandler, file_path: str) -> None:
        stored = next((f for f in self._files.values() if f.path == file_path), None)
        with self._condition:
            self.calls.append(Call("download", {"file_path": file_path}, time.monotonic(), 200 if stored else 404))
            self._condition.notify_all()
        if stored is None:
            self._answer(request, 404, {"ok": False})
            return
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(stored.content)))
        request.end_headers()
        request.wfile.write(stored.content)

    # -- Bot API methods ---------------------------------------------------------------------------

    def _method_getMe(self, params):  # noqa: N802 (Bot API names)
        return BOT_USER

    def _method_deleteWebhook(self, params):  # noqa: N802
        return True

    def _method_setWebhook(self, params):  # noqa: N802
        return True

    def _method_getUpdates(self, params):  # noqa: N802
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), MAX_LONG_POLL_SECONDS)
        with self._condition:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._condition.wait(deadline - time.monotonic())
            return list(self._updates)

    def _method_sendMessage(self, params):  # noqa: N802
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": self.chat(params["chat_id"]), "from": BOT_USER, "text": params.get("text", "")}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _method_sendChatAction(self, params):  # noqa: N802
        return True

    def _method_answerCallbackQuery(self, params):  # noqa: N802
        return True

    def _method_editMessageReplyMarkup(self, params):  # noqa: N802
        return {"message_id": params.get("message_id"), "date": int(time.time()),
                "chat": self.chat(params.get("chat_id")), "from": BOT_USER, "text": "..."}

    def _method_getFile(self, params):  # noqa: N802
        stored = self._files.get(params.get("file_id"))
        if stored is None:
            raise KeyError(params.get("file_id"))
        return {"file_id": params["file_id"], "file_unique_id": params["file_id"] + "-u",
                "file_size": stored.size, "file_path": stored.path}
