"""Telegram's webhook (webhook mode of the gateway): Telegram posts each update here
with the secret agreed at setWebhook; the desk stores it and the gateway process
handles it (desk/services/telegram_updates.py). No login: the secret is the check."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, abort, current_app, jsonify, request

from desk.db import DatabaseUnavailable
from desk.services import telegram_updates
from desk.web.extensions import csrf, db_session, settings_of
from desk.web.json_input import MalformedBody, json_object

blueprint = Blueprint("telegram_webhook", __name__)
log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_ID = 2**63 - 1  # the column is a BIGINT


@blueprint.post("/telegram/webhook")
@csrf.exempt
def receive():
    settings = settings_of(current_app)
    if settings.telegram_mode != "webhook" or not settings.telegram_webhook_secret:
        abort(404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8"), settings.telegram_webhook_secret.encode("utf-8")):
        abort(403)
    try:
        update = json_object()
    except MalformedBody as error:
        log.info("telegram webhook: malformed update refused (%s)", error)
        return jsonify(ok=False, error="malformed update"), 400
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id <= MAX_UPDATE_ID:
        return jsonify(ok=False, error="update_id must be a non-negative integer"), 400
    try:
        with db_session() as session:
            telegram_updates.receive(session, update)
    except DatabaseUnavailable:
        # Telegram retries an update that did not get a 2xx answer.
        log.warning("telegram update %s not stored: database unavailable", update["update_id"])
        return jsonify(ok=False), 503
    return jsonify(ok=True)
