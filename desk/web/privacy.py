"""Personal data in the desk: what the retention purge will anonymise or delete and what it
did (supervisors), and one person's data found, exported and erased (administrators).
Identities travel only in POST bodies, never in URLs (which end up in access logs)."""
from __future__ import annotations

import json
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.models import Role
from desk.models.base import utcnow
from desk.services.privacy import purge, subjects
from desk.services.privacy.identities import IDENTITY_LABELS, IdentityKind, InvalidIdentity, parse_identity
from desk.services.privacy.retention import RULES
from desk.services.privacy.tracker_store import reset_in_assistant
from desk.web.extensions import db_session, settings_of
from desk.web.auth import role_required

blueprint = Blueprint("privacy", __name__, url_prefix="/dati-personali")
ERASE_CONFIRMATION = "CANCELLA"
FOOTPRINT_LABELS = {
    "tickets": "Richieste a un operatore", "ticket_events": "Eventi delle richieste (messaggi, risposte, note)",
    "attachments": "File", "assistant_turns": "Messaggi all'assistente", "feedback": "Valutazioni delle risposte",
    "outbox": "Messaggi inviati all'utente", "telegram_updates": "Messaggi Telegram in attesa (webhook)",
    "update_subscriptions": "Iscrizioni agli avvisi di aggiornamento",
    "learning_decisions": "Decisioni del ciclo di apprendimento", "knowledge_drafts": "Bozze della base di conoscenza",
    "tracker_events": "Memoria dell'assistente (eventi)", "training_examples": "Esempi nei dati di addestramento",
}


@contextmanager
def tracker_store():
    store = purge.open_tracker_store(settings_of(current_app))
    try:
        yield store
    finally:
        if store is not None:
            store.dispose()


@blueprint.get("/")
@role_required(Role.SUPERVISOR)
def index():
    settings = settings_of(current_app)
    policy = settings.privacy.retention
    with tracker_store() as store, db_session() as session:
        due = purge.plan(session, policy, tracker_store=store)
        runs = purge.recent_runs(session)
        counts = due.counts()
        rows = [
            {"rule": rule, "days": policy.days[rule.kind], "cutoff": due.cutoffs[rule.kind], "due": counts[rule.kind.value]}
            for rule in RULES if rule.kind.value != "tracker_events" or store is not None
        ]
        return render_template("privacy/index.html", rows=rows, runs=runs, rules={rule.kind.value: rule for rule in RULES},
                               can_erase=current_user.can(Role.ADMIN))


@blueprint.post("/pulizia")
@role_required(Role.SUPERVISOR)
def run_purge():
    settings = settings_of(current_app)
    dry_run = request.form.get("dry_run") == "1"
    with tracker_store() as store:
        summary = purge.run_purge(current_app.extensions["dialoga.db"], settings.privacy.retention, settings.secret_key,
                                  current_user.email, dry_run=dry_run, tracker_store=store)
    total = sum(summary.counts.values())
    if dry_run:
        flash(f"Prova registrata (n. {summary.run_id}): {total} elementi sarebbero anonimizzati o cancellati; nulla è cambiato.", "info")
    else:
        flash(f"Pulizia eseguita (n. {summary.run_id}): {total} elementi anonimizzati o cancellati.", "success")
    return redirect(url_for("privacy.index"))


@blueprint.get("/persona")
@role_required(Role.ADMIN)
def person():
    return _person_page({}, None, None)


@blueprint.post("/persona")
@role_required(Role.ADMIN)
def search():
    identity, error = _identity_from_form()
    if identity is None:
        return _person_page(request.form, None, error), 422
    settings = settings_of(current_app)
    with tracker_store() as store, db_session() as session:
        footprint = _footprint(session, store, identity, settings)
        subjects.audit(session, "search", current_user.email, identity, settings.secret_key, footprint.counts())
    return _person_page(request.form, footprint, None)


@blueprint.post("/persona/esporta")
@role_required(Role.ADMIN)
def export():
    identity, error = _identity_from_form()
    if identity is None:
        return _person_page(request.form, None, error), 422
    settings = settings_of(current_app)
    with tracker_store() as store, db_session() as session:
        footprint = _footprint(session, store, identity, settings)
        document = subjects.export(footprint)
        subjects.audit(session, "export", current_user.email, identity, settings.secret_key, footprint.counts())
    filename = f"dialoga-dati-personali-{utcnow().strftime('%Y%m%d-%H%M%S')}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@blueprint.post("/persona/cancella")
@role_required(Role.ADMIN)
def erase():
    identity, error = _identity_from_form()
    if identity is None:
        return _person_page(request.form, None, error), 422
    if request.form.get("confirm", "").strip() != ERASE_CONFIRMATION:
        return _person_page(request.form, None, f"Per cancellare scrivi {ERASE_CONFIRMATION} nella casella di conferma."), 422
    settings = settings_of(current_app)
    with tracker_store() as store, db_session() as session:
        footprint = _footprint(session, store, identity, settings)
        sender_ids = sorted(footprint.sender_ids)
        counts = subjects.erase(session, footprint, store, settings.learned_nlu_dir)
        note = ""
        if settings.privacy.rasa_api_token and sender_ids:
            resets = reset_in_assistant(settings.rasa_url, settings.privacy.rasa_api_token, sender_ids)
            failed = [reset for reset in resets if not reset.ok]
            counts["assistant_conversations_reset"] = len(resets) - len(failed)
            note = f"assistant reset failed for {len(failed)} conversations" if failed else ""
        subjects.audit(session, "erasure", current_user.email, identity, settings.secret_key, counts, note)
    if counts.get("training_examples"):
        flash(f"Tolti {counts['training_examples']} esempi dai dati di addestramento: riaddestra l'assistente "
              "(make model) perché il modello li dimentichi.", "info")
    if note:
        flash("Dati cancellati dal desk, ma l'assistente non ha confermato l'azzeramento di tutte le conversazioni: "
              "riprova o riavvialo.", "error")
    else:
        flash(f"Dati cancellati: {sum(counts.values())} elementi.", "success")
    return redirect(url_for("privacy.person"))


def _footprint(session, store, identity, settings):
    """Everything held about one person: the desk's tables, the tracker store, learned examples."""
    return subjects.find(session, identity, settings.secret_key, store, settings.learned_nlu_dir)


def _identity_from_form():
    try:
        return parse_identity(request.form.get("kind", ""), request.form.get("value", "")), None
    except InvalidIdentity:
        return None, "Identità non valida: un'email o un telefono, un id numerico di chat Telegram o l'id di una conversazione della chat del sito."


def _person_page(form, footprint, error):
    with db_session() as session:
        requests = subjects.recent_requests(session)
        return render_template("privacy/person.html", form=form, footprint=footprint, error=error, requests=requests,
                               kinds=IDENTITY_LABELS, confirmation=ERASE_CONFIRMATION, labels=FOOTPRINT_LABELS,
                               kind_values=[kind.value for kind in IdentityKind])
