"""The learning loop (operators): messages the assistant could not answer, grouped by
similarity; a group becomes training examples for a topic (after reviewing the diff of
the training file), a knowledge-base draft, or is set aside as handled or ignored."""
from __future__ import annotations

from typing import Dict, List

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.models import ClarificationReview, DraftStatus, LearningDecisionKind, Role
from desk.services import clarifications, knowledge, learning, report_tables
from desk.services.business_hours import BusinessCalendar
from desk.services.learning import LearnedFileChanged, NothingToDecide, UnknownTopic
from desk.services.periods import LANGUAGES, period_from_args, today_in
from desk.web.auth import role_required
from desk.web.extensions import db_session, settings_of

blueprint = Blueprint("learning", __name__, url_prefix="/learning")

GROUPS_SHOWN = 50
MESSAGES_PER_GROUP_SHOWN = 20
PERIOD_FIELDS = ("from", "to", "channel", "language")


def _nlu_dir():
    return settings_of(current_app).learned_nlu_dir


def _period_args(source) -> Dict[str, str]:
    return {name: source.get(name) for name in PERIOD_FIELDS if source.get(name)}


def _ids(name: str) -> List[int]:
    return [int(value) for value in request.form.getlist(name) if value.isdigit()]


def _back():
    return redirect(url_for("learning.index", **_period_args(request.form)))


@blueprint.get("/")
@role_required(Role.OPERATOR)
def index():
    period, errors = period_from_args(request.args, today_in())
    with db_session() as session:
        groups = learning.unanswered_groups(session, period)
        drafts = learning.list_drafts(session)
        chosen = clarifications.awaiting_review(session, period)
        titles = knowledge.titles_for(session, sorted({topic for item in chosen for topic in item.offered or []}), "it")
        feedback = report_tables.satisfaction_table(report_tables.Context(session, period, BusinessCalendar.from_env()))
    return render_template(
        "learning/index.html",
        period=period,
        errors=errors,
        groups=groups[:GROUPS_SHOWN],
        group_total=len(groups),
        messages_shown=MESSAGES_PER_GROUP_SHOWN,
        drafts=drafts,
        chosen=chosen,
        titles=titles,
        feedback=feedback,
        topics=learning.topics_for_choice(),
        languages=LANGUAGES,
        has_knowledge="knowledge.index" in current_app.view_functions,
        cell=lambda value, column: report_tables.page_cell(value, column.kind, period),
        moment=lambda value: report_tables.page_cell(value, report_tables.MOMENT, period),
    )


@blueprint.post("/label/preview")
@role_required(Role.OPERATOR)
def preview_label():
    topic = request.form.get("topic", "")
    group_ids, example_ids = _ids("group"), _ids("example")
    if not topic:
        flash("Scegli l'argomento a cui aggiungere gli esempi.", "error")
        return _back()
    if not example_ids:
        flash("Scegli almeno un esempio da aggiungere.", "error")
        return _back()
    with db_session() as session:
        try:
            plan = learning.plan_labelling(session, _nlu_dir(), topic, group_ids, example_ids)
        except UnknownTopic:
            abort(400)
        if not plan.turns:
            flash("Questi messaggi non sono più in elenco.", "error")
            return _back()
        return _render_preview(plan, group_ids, example_ids)


@blueprint.post("/label")
@role_required(Role.OPERATOR)
def confirm_label():
    topic = request.form.get("topic", "")
    group_ids, example_ids = _ids("group"), _ids("example")
    digests = learning.parse_digests(request.form.getlist("digest"))
    with db_session() as session:
        clarification = _chosen_clarification(session)
        if clarification is not None and (clarification.chosen_topic != topic or clarification.turn_id not in group_ids):
            abort(400)
        try:
            plan = learning.apply_labelling(
                session, _nlu_dir(), topic, group_ids, example_ids, digests, current_user.email
            )
            if clarification is not None:
                clarifications.review(session, clarification, ClarificationReview.CONFIRMED, current_user.email)
        except UnknownTopic:
            abort(400)
        except NothingToDecide:
            flash("Questi messaggi non sono più in elenco.", "error")
            return _back()
        except LearnedFileChanged:
            plan = learning.plan_labelling(session, _nlu_dir(), topic, group_ids, example_ids)
            return _render_preview(plan, group_ids, example_ids, changed=True), 409
    added = sum(len(change.added) for change in plan.changes)
    if added:
        flash(f"{added} esempi aggiunti all'argomento «{topic}»: l'assistente li imparerà al prossimo "
              "addestramento (un supervisore lo avvia dalla pagina Modelli).", "success")
    else:
        flash(f"Gruppo segnato come «{topic}»: gli esempi erano già nei dati di addestramento.", "success")
    return _back()


def _chosen_clarification(session):
    """The clarification whose chosen topic the form confirms, if it came from that list."""
    value = request.form.get("clarification", "")
    if not value:
        return None
    clarification = clarifications.pending_choice(session, int(value)) if value.isdigit() else None
    if clarification is None:
        abort(409, description="Questa scelta è già stata esaminata.")
    return clarification


def _render_preview(plan, group_ids, example_ids, changed: bool = False, clarification_id=None):
    return render_template(
        "learning/preview.html",
        plan=plan,
        group_ids=group_ids,
        example_ids=example_ids,
        clarification_id=clarification_id or request.form.get("clarification", ""),
        period_args=_period_args(request.form),
        changed=changed,
        topic_ask=dict(learning.topics_for_choice()).get(plan.topic, ""),
    )


@blueprint.post("/clarifications/<int:clarification_id>/preview")
@role_required(Role.OPERATOR)
def preview_clarification(clarification_id: int):
    """Confirming a user's choice goes through the labelling path: the diff first."""
    with db_session() as session:
        clarification = clarifications.pending_choice(session, clarification_id)
        if clarification is None:
            flash("Questa scelta è già stata esaminata.", "error")
            return _back()
        ids = [clarification.turn_id]
        plan = learning.plan_labelling(session, _nlu_dir(), clarification.chosen_topic, ids, ids)
        if not plan.turns:
            flash("Questo messaggio non si può usare come esempio.", "error")
            return _back()
        return _render_preview(plan, ids, ids, clarification_id=clarification_id)


@blueprint.post("/clarifications/<int:clarification_id>/reject")
@role_required(Role.OPERATOR)
def reject_clarification(clarification_id: int):
    with db_session() as session:
        clarification = clarifications.pending_choice(session, clarification_id)
        if clarification is None:
            flash("Questa scelta è già stata esaminata.", "error")
            return _back()
        clarifications.review(session, clarification, ClarificationReview.REJECTED, current_user.email)
    flash("Scelta scartata: il messaggio non diventa un esempio.", "success")
    return _back()


@blueprint.post("/draft")
@role_required(Role.OPERATOR)
def create_draft():
    with db_session() as session:
        try:
            draft = learning.create_draft(
                session, request.form.get("title", ""), _ids("group"), _ids("example"), current_user.email,
                note=request.form.get("note", ""),
            )
        except NothingToDecide:
            flash("Questi messaggi non sono più in elenco.", "error")
            return _back()
        title = draft.title
    flash(f"Bozza «{title}» creata: la trovi in fondo alla pagina.", "success")
    return _back()


@blueprint.post("/dismiss")
@role_required(Role.OPERATOR)
def dismiss():
    try:
        decision = LearningDecisionKind(request.form.get("decision", ""))
    except ValueError:
        abort(400)
    if decision not in (LearningDecisionKind.HANDLED, LearningDecisionKind.IGNORED):
        abort(400)
    with db_session() as session:
        try:
            learning.dismiss(session, _ids("group"), decision, current_user.email)
        except NothingToDecide:
            flash("Questi messaggi non sono più in elenco.", "error")
            return _back()
    flash("Gruppo segnato come gestito." if decision is LearningDecisionKind.HANDLED else "Gruppo ignorato.", "success")
    return _back()


@blueprint.post("/drafts/<int:draft_id>/status")
@role_required(Role.OPERATOR)
def draft_status(draft_id: int):
    try:
        status = DraftStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    with db_session() as session:
        if learning.set_draft_status(session, draft_id, status) is None:
            abort(404)
    flash("Bozza aggiornata.", "success")
    return _back()
