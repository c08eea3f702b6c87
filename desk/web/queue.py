"""The ticket queue: filters, search, SLA order, live refresh and keyboard shortcuts."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.models import Role
from desk.models.base import utcnow
from desk.services import queue, tickets, users
from desk.services.ticket_page import sla_clock
from desk.web.auth import role_required
from desk.web.extensions import db_session
from desk.web.ticket_display import AREA_LABELS, business_calendar, people_names, register_filters

blueprint = Blueprint("queue", __name__)
register_filters(blueprint)

REFRESH_SECONDS = 5


@blueprint.get("/coda")
@role_required(Role.OPERATOR)
def index():
    view = queue.QueueFilter.from_args(request.args)
    with db_session() as session:
        context = _results_context(session, view, since=queue.latest_ticket_id(session))
        context.update(
            topics=queue.topic_choices(session),
            operators=[user for user in users.list_users(session) if user.active],
            area_labels=AREA_LABELS,
            channels=queue.CHANNELS,
        )
        return render_template("queue/index.html", **context)


@blueprint.get("/coda/risultati")
@role_required(Role.OPERATOR)
def results():
    """The results alone, polled by the queue page: new tickets appear without a reload."""
    view = queue.QueueFilter.from_args(request.args)
    since = request.args.get("since", type=int)  # the newest ticket id when the page was loaded
    with db_session() as session:
        return render_template("queue/_results.html", **_results_context(session, view, since=since))


@blueprint.get("/coda/prossimo")
@role_required(Role.OPERATOR)
def next_ticket():
    """The next active ticket by SLA, unassigned or mine, after the one in ?dopo= (or the first)."""
    with db_session() as session:
        after = tickets.find_by_ref(session, request.args.get("dopo", ""))
        ref = queue.next_ticket(session, after, current_user.email)
    if ref is None:
        flash("Non ci sono altri ticket attivi liberi o tuoi in coda.", "info")
        return redirect(url_for("queue.index"))
    return redirect(url_for("tickets.show", ref=ref))


def _results_context(session, view: queue.QueueFilter, since: Optional[int]) -> dict:
    now = utcnow()
    calendar = business_calendar()
    page = queue.find_tickets(session, view, current_user.email, now=now)
    names = people_names(users.list_users(session))
    return dict(
        view=view,
        page=page,
        since=since,
        new_count=queue.new_since(session, since),
        clocks={row.id: sla_clock(calendar, row.status, row.sla_due_at, now) for row in page.rows},
        topic_titles=queue.topic_titles(session, [row.topic for row in page.rows if row.topic]),
        names=names,
        refresh_seconds=REFRESH_SECONDS,
    )
