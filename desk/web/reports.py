"""Supervisors' reports: containment, escalations, response times, backlog, topics,
unanswered messages, satisfaction, per channel and per language; each section as CSV."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request

from desk.models import Role
from desk.services import report_tables, reports
from desk.services.business_hours import BusinessCalendar
from desk.services import update_notices
from desk.services.periods import LANGUAGES, period_from_args, today_in
from desk.services.report_tables import Context
from desk.web.auth import role_required
from desk.web.extensions import db_session

blueprint = Blueprint("reports", __name__, url_prefix="/reports")


def _period():
    return period_from_args(request.args, today_in())


@blueprint.get("/")
@role_required(Role.SUPERVISOR)
def index():
    period, errors = _period()
    calendar = BusinessCalendar.from_env()
    with db_session() as session:
        context = Context(session, period, calendar)
        tables = report_tables.all_tables(context)
        channels = reports.channels_seen(session)
        since, until = period.bounds()
        notices = update_notices.counts_per_topic(session, since, until)
    return render_template(
        "reports/index.html",
        period=period,
        errors=errors,
        tables=tables,
        charts=report_tables.chart_data(tables),
        channels=channels,
        languages=LANGUAGES,
        calendar_text=calendar.describe("it"),
        has_learning="learning.index" in current_app.view_functions,
        cell=lambda value, column: report_tables.page_cell(value, column.kind, period),
        notices=notices,
    )


@blueprint.get("/<section>.csv")
@role_required(Role.SUPERVISOR)
def export(section: str):
    build = report_tables.SECTIONS.get(section)
    if build is None:
        abort(404)
    period, errors = _period()
    if errors:
        abort(400, description=" ".join(errors))
    with db_session() as session:
        table = build(Context(session, period, BusinessCalendar.from_env()))
    filename = f"dialoga-{section}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    return Response(
        report_tables.to_csv(table, period),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
