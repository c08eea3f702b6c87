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
from desk.services import dated_facts, directory, knowledge, update_notices
from desk.services.dated_facts import DatedFact
from desk.services.knowledge import EditConflict, InvalidEntry
from desk.services.knowledge_sources import HOW
from desk.topics import load_topics
from desk.web.auth import role_required
from desk.web.form_values import int_or_none
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


def _warn_days() -> int:
    return settings_of(current_app).knowledge_expiry_warning_days


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
        rows = knowledge.filter_entries(entries, today(), _max_age(), stale_only, area if area in AREAS else "", search,
                                        warn_days=_warn_days())
        stale_total = sum(1 for entry in entries if knowledge.staleness(entry, today(), _max_age(), _warn_days()))
        facts = {entry.topic: knowledge.facts_of(entry) for entry in entries}
        return render_template(
            "knowledge/index.html", rows=rows, total=len(entries), stale_total=stale_total, areas=AREAS,
            area=area, search=search, stale_only=stale_only, max_age=_max_age(),
            ending=len(dated_facts.expiring(facts, today(), _warn_days())),
            ended=len(dated_facts.ended(facts, today())),
        )


@blueprint.get("/scadenze/")
@role_required(Role.OPERATOR)
def deadlines():
    """Dated facts about to end, ended (the assistant says they are being updated) and the
    ones that depend on the yearly budget law, to re-read at year end."""
    with db_session() as session:
        entries = {entry.topic: entry for entry in knowledge.list_entries(session)}
        facts = {topic: knowledge.facts_of(entry) for topic, entry in entries.items()}
        return render_template(
            "knowledge/deadlines.html", today=today(), warn_days=_warn_days(),
            expiring=dated_facts.expiring(facts, today(), _warn_days()), ended=dated_facts.ended(facts, today()),
            budget=dated_facts.budget_law_review(facts, today()),
            titles={topic: entry.title_it for topic, entry in entries.items()},
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
    based_on = int_or_none(request.form.get("base_version"))
    note = request.form.get("note", "").strip()[:500]
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        errors: Dict[str, str] = dict(parse_errors)
        if based_on is None:
            errors["base_version"] = "Manca la versione di partenza: ricarica la pagina."
        if not errors:
            try:
                saved = update_notices.publish_edit(session, topic, changes, current_user.email, based_on, today(),
                                                    note=note, may_confirm=_may_confirm(),
                                                    rules_changed=request.form.get("rules_changed") == "on")
            except InvalidEntry as error:
                errors = error.errors
            except EditConflict as conflict:
                return _render_conflict(session, entry, changes, conflict)
            else:
                flash(f"Scheda salvata (versione {saved.version}): l'assistente la usa già dalla prossima risposta."
                      + (" Chi segue l'argomento riceverà un avviso." if request.form.get("rules_changed") == "on"
                         else ""), "success")
                return redirect(url_for("knowledge.edit", topic=topic))
        return _render_edit(session, entry, _form_content(changes, entry), content_version=based_on or entry.version,
                            errors=errors), 422


@blueprint.post("/<topic>/preview")
@role_required(Role.OPERATOR)
def preview(topic: str):
    """htmx: the answer as users will read it in the chat, in both languages, with unsaved text."""
    changes, errors = _changes_from_form()
    with db_session() as session:
        entry = _entry_or_404(session, topic)
        errors.update(knowledge.validate_content(changes, today()))
        for name in ("facts", "sources"):
            if name in errors:
                changes.pop(name, None)
        points = directory.points_for_topic(session, topic)
        answers = {
            language: compose_answer(knowledge.preview_answer(entry, changes, language, today()), points)
            for language in ("it", "en")
        }
        return render_template("knowledge/_preview.html", answers=answers, errors=errors)


@blueprint.post("/<topic>/verificato")
@role_required(Role.OPERATOR)
def verified(topic: str):
    """The operator re-read the entry's sources today: the only way "Verificata il" moves."""
    note = request.form.get("note", "").strip()[:300]
    with db_session() as session:
        _entry_or_404(session, topic)
        saved = knowledge.mark_verified(session, topic, current_user.email, today(), note=note)
    flash(f"Fonti segnate come ricontrollate oggi da te (versione {saved.version}).", "success")
    return redirect(url_for("knowledge.edit", topic=topic))


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
    based_on = int_or_none(request.form.get("base_version"))
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
    if "facts_count" in form:  # a form without the facts block leaves the facts as they are
        changes["facts"], fact_errors = _facts_from_form(form)
        errors.update(fact_errors)
    if "sources" in form:
        changes["sources"], source_errors = _sources_from_form(form.get("sources", ""))
        errors.update(source_errors)
    return changes, errors


FACT_FIELDS = ("key", "label_it", "label_en", "text_it", "text_en", "valid_from", "valid_until", "source_url",
               "source_note")


def _facts_from_form(form) -> Tuple[list, Dict[str, str]]:
    """Facts posted as fact-<n>-<field>; a row whose key is empty is left out (the blank row
    for a new fact)."""
    facts, errors = [], {}
    count = int_or_none(form.get("facts_count")) or 0
    for index in range(min(count, 50)):
        raw = {name: form.get(f"fact-{index}-{name}", "").replace("\r\n", "\n").strip() for name in FACT_FIELDS}
        if not raw["key"]:
            continue
        raw["budget_law"] = form.get(f"fact-{index}-budget_law") == "on"
        try:
            facts.append(DatedFact.from_dict(raw).as_dict())
        except ValueError:
            errors["facts"] = f"{raw['key']}: date non valide (AAAA-MM-GG)."
    return facts, errors


def _sources_from_form(text: str) -> Tuple[list, Dict[str, str]]:
    """One source per line: indirizzo | cosa riporta | come è stata verificata | data (AAAA-MM-GG)."""
    sources, errors = [], {}
    for line in text.replace("\r\n", "\n").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")] + ["", "", "", ""]
        url, states, how, checked = parts[:4]
        if checked:
            try:
                date.fromisoformat(checked)
            except ValueError:
                errors["sources"] = f"{url}: data non valida (AAAA-MM-GG)."
        sources.append({"url": url, "states": states, "how": how or HOW[1], "checked_on": checked or None})
    return sources, errors


def _form_content(changes: Dict[str, Any], entry=None) -> Dict[str, Any]:
    content = dict(knowledge.snapshot(entry), **changes) if entry is not None else dict(changes)
    if isinstance(content.get("verified_on"), date):
        content["verified_on"] = content["verified_on"].isoformat()
    return content


def sources_text(sources) -> str:
    return "\n".join(" | ".join(str(source.get(name) or "") for name in ("url", "states", "how", "checked_on"))
                     for source in sources or [])


def _render_edit(session, entry, content, content_version, errors=None, conflict=None, conflict_diff=None):
    return render_template(
        "knowledge/edit.html", entry=entry, content=content, content_version=content_version,
        errors=errors or {}, conflict=conflict, conflict_diff=conflict_diff or [],
        reasons=knowledge.staleness(entry, today(), _max_age(), _warn_days()),
        area_label=AREAS.get(entry.area, entry.area),
        ask=getattr(load_topics().get(entry.topic), "ask", ""), confidence_labels=CONFIDENCE_LABELS,
        may_confirm=_may_confirm(), today=today().isoformat(), sources_text=sources_text(content.get("sources")),
        facts=list(content.get("facts") or []) + [{}], fact_states={
            fact.key: dated_facts.state(fact, today()).value for fact in knowledge.facts_of(entry)},
    )


def _conflict_message(conflict: EditConflict) -> str:
    return (f"Nel frattempo {conflict.current_author} ha salvato la versione {conflict.current} "
            f"(tu eri partito dalla versione {conflict.based_on}): le tue modifiche NON sono state salvate, "
            "per non sovrascrivere il lavoro di un collega.")


def _render_conflict(session, entry, changes, conflict: EditConflict):
    yours = _form_content(changes, entry)
    diff = knowledge.diff_contents(knowledge.snapshot(entry), dict(knowledge.snapshot(entry), **yours))
    page = _render_edit(session, entry, yours, content_version=entry.version,
                        conflict=_conflict_message(conflict), conflict_diff=diff)
    return page, 409
