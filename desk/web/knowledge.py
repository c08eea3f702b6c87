"""Knowledge-base editor: the 42 entries with their freshness, edit with preview,
versions with diffs, revert. Saves go through desk.services.knowledge and are live in
the assistant's next answer (it reads the entry at answer time)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, Tuple
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.answer_format import compose_answer
from desk.models import Role
from desk.services import directory, knowledge
from desk.services.knowledge import EditConflict, InvalidEntry
from desk.topics import load_topics
from desk.web.auth import role_required
from desk.web.extensions import db_session, settings_of

blueprint = Blueprint("knowledge", __name__, url_prefix="/knowledge")

AREAS = {
    "lavoro_flessibile": "Lavoro flessibile",
    "congedi": "Congedi e permessi",
    "welfare_aziendale": "Welfare aziendale",
    "fondi_artigiani": "Fondi artigiani",
    "incentivi_pubblici": "Incentivi e misure pubbliche",
    "servizi_famiglie": "Servizi per le famiglie",
    "sportello": "Progetto e sportello",
}
CONFIDENCE_LABELS = {"high": "alta", "medium": "media", "low": "bassa"}


def today() -> date:
    """Dates of verification are Italian dates."""
    return datetime.now(ZoneInfo("Europe/Rome")).date()


def _max_age() -> int:
    return settings_of(current_app).knowledge_stale_days


def _may_confirm() -> bool:
    return current_user.can(Role.SUPERVISOR)


@blueprint.get("/")
@role_required(Role.OPERATOR)
def index():
    stale_only = request.args.get("stale") == "1"
    area = request.args.get("area", "")
    search = request.args.get("q", "")
    with db_session() as session:
        entries = knowledge.list_entries(session)
        rows = knowledge.filter_entries(entries, today(), _max_age(), stale_only, area if area in AREAS else "", search)
        stale_total = sum(1 for entry in entries if knowledge.staleness(entry, today(), _max_age()))
        return render_template(
            "knowledge/index.html", rows=rows, total=len(entries), stale_total=stale_total, areas=AREAS,
            area=area, search=search, stale_only=stale_only, max_age=_max_age(),
        )


@blueprint.get("/<topic>")
@role_required(Role.OPERATOR)
def edit(topic: str):
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        content = knowledge.snapshot(entry)
        return _render_edit(session, entry, content, content_version=entry.version)


@blueprint.post("/<topic>")
@role_required(Role.OPERATOR)
def save(topic: str):
    changes, parse_errors = _changes_from_form()
    based_on = _int_or_none(request.form.get("base_version"))
    note = request.form.get("note", "").strip()[:500]
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        errors: Dict[str, str] = dict(parse_errors)
        if based_on is None:
            errors["base_version"] = "Manca la versione di partenza: ricarica la pagina."
        if not errors:
            try:
                saved = knowledge.edit_entry(session, topic, changes, current_user.email, based_on, today(),
                                             note=note, may_confirm=_may_confirm())
            except InvalidEntry as error:
                errors = error.errors
            except EditConflict as conflict:
                return _render_conflict(session, entry, changes, conflict)
            else:
                flash(f"Scheda salvata (versione {saved.version}): l'assistente la usa già dalla prossima risposta.",
                      "success")
                return redirect(url_for("knowledge.edit", topic=topic))
        return _render_edit(session, entry, _form_content(changes), content_version=based_on or entry.version,
                            errors=errors), 422


@blueprint.post("/<topic>/preview")
@role_required(Role.OPERATOR)
def preview(topic: str):
    """htmx: the answer as users will read it in the chat, in both languages, with unsaved text."""
    changes, errors = _changes_from_form()
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        errors.update(knowledge.validate_content(changes, today()))
        for name in ("verified_on",):
            if name in errors:
                changes.pop(name, None)
        points = directory.points_for_topic(session, topic)
        answers = {
            language: compose_answer(knowledge.preview_answer(entry, changes, language), points)
            for language in ("it", "en")
        }
        return render_template("knowledge/_preview.html", answers=answers, errors=errors)


@blueprint.get("/<topic>/versions")
@role_required(Role.OPERATOR)
def versions(topic: str):
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        return render_template("knowledge/versions.html", entry=entry, changes=knowledge.history(session, topic),
                               may_confirm=_may_confirm())


@blueprint.post("/<topic>/versions/<int:version>/revert")
@role_required(Role.OPERATOR)
def revert(topic: str, version: int):
    based_on = _int_or_none(request.form.get("base_version"))
    with db_session() as session:
        _entry_or_404(session, topic)
        try:
            saved = knowledge.revert_entry(session, topic, version, current_user.email, expected_version=based_on,
                                           may_confirm=_may_confirm())
        except LookupError:
            abort(404)
        except EditConflict as conflict:
            flash(_conflict_message(conflict) + " Controlla la cronologia aggiornata prima di ripristinare.", "error")
            return redirect(url_for("knowledge.versions", topic=topic))
        except InvalidEntry as error:
            flash(" ".join(error.errors.values()), "error")
            return redirect(url_for("knowledge.versions", topic=topic))
    flash(f"Ripristinata la versione {version} come nuova versione {saved.version}.", "success")
    return redirect(url_for("knowledge.versions", topic=topic))


# ---- helpers -------------------------------------------------------------------------

def _entry_or_404(session, topic: str):
    entry = knowledge.find_entry(session, topic)
    if entry is None:
        abort(404)
    return entry


def _int_or_none(value) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _changes_from_form() -> Tuple[Dict[str, Any], Dict[str, str]]:
    """The editable fields as the service takes them, plus errors of fields that cannot
    even be read (a malformed date)."""
    form = request.form
    errors: Dict[str, str] = {}
    changes: Dict[str, Any] = {
        name: form.get(name, "").replace("\r\n", "\n").strip()
        for name in ("title_it", "title_en", "answer_it", "answer_en", "source", "source_url", "confidence_note")
    }
    changes["confidence"] = form.get("confidence", "")
    changes["unconfirmed"] = form.get("unconfirmed") == "on"
    changes["unconfirmed_points"] = [line.strip() for line in form.get("unconfirmed_points", "").splitlines()
                                     if line.strip()]
    raw_date = form.get("verified_on", "").strip()
    try:
        changes["verified_on"] = date.fromisoformat(raw_date)
    except ValueError:
        changes["verified_on"] = raw_date
        errors["verified_on"] = "Data di verifica non valida (AAAA-MM-GG)."
    return changes, errors


def _form_content(changes: Dict[str, Any]) -> Dict[str, Any]:
    content = dict(changes)
    if isinstance(content.get("verified_on"), date):
        content["verified_on"] = content["verified_on"].isoformat()
    return content


def _render_edit(session, entry, content, content_version, errors=None, conflict=None, conflict_diff=None):
    return render_template(
        "knowledge/edit.html", entry=entry, content=content, content_version=content_version,
        errors=errors or {}, conflict=conflict, conflict_diff=conflict_diff or [],
        reasons=knowledge.staleness(entry, today(), _max_age()), area_label=AREAS.get(entry.area, entry.area),
        ask=getattr(load_topics().get(entry.topic), "ask", ""), confidence_labels=CONFIDENCE_LABELS,
        may_confirm=_may_confirm(), today=today().isoformat(),
    )


def _conflict_message(conflict: EditConflict) -> str:
    return (f"Nel frattempo {conflict.current_author} ha salvato la versione {conflict.current} "
            f"(tu eri partito dalla versione {conflict.based_on}): le tue modifiche NON sono state salvate, "
            "per non sovrascrivere il lavoro di un collega.")


def _render_conflict(session, entry, changes, conflict: EditConflict):
    yours = _form_content(changes)
    diff = knowledge.diff_contents(knowledge.snapshot(entry), dict(knowledge.snapshot(entry), **yours))
    page = _render_edit(session, entry, yours, content_version=entry.version,
                        conflict=_conflict_message(conflict), conflict_diff=diff)
    return page, 409
