"""Supervisors' reports on a hand-built week of turns, tickets and feedback, on both databases:
exact counts, business-hour medians, day buckets in Rome time, filters, CSV exports, roles."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

import pytest

from desk.models import AnswerFeedback, AssistantTurn, Role, Ticket
from desk.services import reports
from desk.services.business_hours import BusinessCalendar
from desk.services.periods import Period, period_from_args
from desk.services.report_tables import defuse_formula

# Monday 2 to Sunday 8 March 2026; Rome is UTC+1 that week. Times below are naive UTC.
WEEK = {"from": "2026-03-02", "to": "2026-03-08"}
NOW = datetime(2026, 3, 10, 11, 0)  # Tuesday 10 March, 12:00 in Rome
TRICKY = '=HYPERLINK("http://x.example","a, b")\nseconda riga; "virgolette"'
XSS = "</script><script>alert(1)</script>"
CALENDAR = BusinessCalendar()


def turn(conversation, outcome, at, channel="telegram", language="it", topic=None, text="", intent=None):
    return AssistantTurn(conversation_id=conversation, outcome=outcome, created_at=at, channel=channel,
                         language=language, topic=topic, text=text, intent=intent)


def ticket(number, status, created, channel="telegram", language="it", first_response=None, resolved=None, sla_due=None):
    return Ticket(
        ref=f"DC-TEST{number:02d}", status=status, channel=channel, reply_address="x", conversation_id=f"t{number}",
        language=language, role="worker", name="Nome", contact="n@example.org", contact_kind="email", question="domanda",
        consent_at=created, sla_due_at=sla_due or CALENDAR.sla_due(created), created_at=created, updated_at=created,
        first_response_at=first_response, resolved_at=resolved, transcript=[], suggested_topics=[],
    )


def feedback(topic, helpful, at, channel="telegram", language="it"):
    return AnswerFeedback(conversation_id="f", topic=topic, helpful=helpful, created_at=at, channel=channel, language=language)


@pytest.fixture
def week(seeded_database):
    """Conversations A-I, tickets T1-T7 and feedback, with the expected figures in the tests."""
    rows = [
        # A: contained (two answers)
        turn("A", "answered", datetime(2026, 3, 2, 10, 0), topic="congedo_paternita", text="paternità quanti giorni"),
        turn("A", "answered", datetime(2026, 3, 2, 10, 5), topic="part_time", text="part time"),
        # B: escalated (not understood, then "sì" to the offer)
        turn("B", "unanswered", datetime(2026, 3, 2, 11, 0), text="Come funziona la pensione anticipata?", intent="nlu_fallback"),
        turn("B", "escalated", datetime(2026, 3, 2, 11, 1), text="sì", intent="affirm"),
        # C: contained, in English on the widget, with one question not understood
        turn("C", "answered", datetime(2026, 3, 3, 9, 0), channel="widget", language="en", topic="congedo_paternita", text="paternity leave"),
        turn("C", "unanswered", datetime(2026, 3, 3, 9, 5), channel="widget", language="en", text="how do I file taxes", intent="out_of_scope"),
        # D: unanswered only
        turn("D", "unanswered", datetime(2026, 3, 4, 10, 0), channel="widget", text=TRICKY, intent="nlu_fallback"),
        turn("D", "unanswered", datetime(2026, 3, 4, 10, 2), channel="widget", text="COME funziona la pensione anticipata", intent="nlu_fallback"),
        # E: the knowledge base was down, then a nonsense message
        turn("E", "kb_unavailable", datetime(2026, 3, 5, 10, 0), channel="rest", topic="part_time", text="part time"),
        turn("E", "unanswered", datetime(2026, 3, 5, 10, 1), channel="rest", text=XSS, intent="nlu_fallback"),
        # F: asked for a person at 00:30 on Tuesday in Rome (still Monday in UTC)
        turn("F", "escalated", datetime(2026, 3, 2, 23, 30), text="voglio parlare con una persona", intent="request_human"),
        # G and I: the first and the last minute of the week in Rome; H and J just outside it
        turn("G", "answered", datetime(2026, 3, 1, 23, 0), channel="rest", topic="welfare_aziendale_definizione", text="welfare"),
        turn("H", "answered", datetime(2026, 3, 1, 22, 59), channel="rest", topic="welfare_aziendale_definizione", text="welfare"),
        turn("I", "answered", datetime(2026, 3, 8, 22, 59), channel="rest", topic="part_time", text="part time"),
        turn("J", "unanswered", datetime(2026, 3, 8, 23, 0), channel="rest", text="fuori periodo", intent="nlu_fallback"),
    ]
    tickets = [
        # Rome times in the comments; first response / resolution in office hours (9-13, 14-17).
        # T1 Mon 10:00, answered Mon 11:30 (1.5 h), resolved Tue 10:00 (7 h)
        ticket(1, "resolved", datetime(2026, 3, 2, 9, 0), first_response=datetime(2026, 3, 2, 10, 30), resolved=datetime(2026, 3, 3, 9, 0)),
        # T2 Mon 16:00, answered Tue 10:00 (2 h), resolved Wed 9:00 (8 h), then closed
        ticket(2, "closed", datetime(2026, 3, 2, 15, 0), first_response=datetime(2026, 3, 3, 9, 0), resolved=datetime(2026, 3, 4, 8, 0)),
        # T3 Fri 16:30, answered Mon 9:30 (1 h), still in progress
        ticket(3, "in_progress", datetime(2026, 3, 6, 15, 30), channel="widget", first_response=datetime(2026, 3, 9, 8, 30)),
        # T4 Sat 10:00, answered Mon 12:00 (3 h), resolved Mon 15:00 (5 h)
        ticket(4, "resolved", datetime(2026, 3, 7, 9, 0), channel="rest", first_response=datetime(2026, 3, 9, 11, 0), resolved=datetime(2026, 3, 9, 14, 0)),
        # T5 Wed 12:00, never answered, SLA passed: overdue
        ticket(5, "open", datetime(2026, 3, 4, 11, 0), channel="widget", language="en"),
        # T6, T7 opened after the week: in the backlog, not in the week's times
        ticket(6, "open", datetime(2026, 3, 10, 9, 0), sla_due=datetime(2026, 3, 12, 9, 0)),
        ticket(7, "waiting_on_user", datetime(2026, 3, 10, 8, 0), first_response=datetime(2026, 3, 10, 9, 0)),
    ]
    votes = [feedback("congedo_paternita", True, datetime(2026, 3, 2, 10, 1)) for _ in range(3)]
    votes += [feedback("congedo_paternita", False, datetime(2026, 3, 3, 9, 1), channel="widget", language="en")]
    votes += [feedback("part_time", False, datetime(2026, 3, 2, 10, 6)) for _ in range(2)]
    votes += [feedback("part_time", True, datetime(2026, 3, 9, 10, 0))]  # after the week
    with seeded_database.session() as session:
        session.add_all(rows + tickets + votes)
    return seeded_database


def period(**filters) -> Period:
    found, errors = period_from_args({**WEEK, **filters}, date(2026, 3, 10))
    assert errors == []
    return found


def test_containment_counts_conversations_and_turns(week):
    with week.session() as session:
        report = reports.containment(session, period())
    assert (report.contained, report.escalated, report.unanswered) == (4, 2, 2)  # A C G I / B F / D E
    assert report.rate == 0.5
    assert report.turns == {"answered": 5, "clarified": 0, "unanswered": 5, "escalated": 2, "kb_unavailable": 1}


def test_filters_apply_to_channel_language_and_days(week):
    with week.session() as session:
        telegram = reports.containment(session, period(channel="telegram"))
        english = reports.containment(session, period(language="en"))
        tuesday = reports.containment(session, period(**{"from": "2026-03-03", "to": "2026-03-03"}))
    assert (telegram.contained, telegram.escalated, telegram.unanswered) == (1, 2, 0)
    assert (english.contained, english.escalated, english.unanswered) == (1, 0, 0)
    assert (tuesday.contained, tuesday.escalated, tuesday.unanswered) == (1, 1, 0)  # C, and F at 00:30 Rome


def test_escalations_are_counted_per_day_in_rome(week):
    with week.session() as session:
        days = reports.escalations_per_day(session, period())
    assert [day.day for day in days] == [date(2026, 3, d) for d in range(2, 9)]
    assert [day.escalated_turns for day in days] == [1, 1, 0, 0, 0, 0, 0]
    assert [day.tickets_opened for day in days] == [2, 0, 1, 0, 1, 1, 0]


def test_response_times_are_in_business_hours(week):
    with week.session() as session:
        first, resolution = reports.response_times(session, period(), CALENDAR)
    assert (first.tickets, first.measured) == (5, 4)
    assert first.median_hours == pytest.approx(1.75)  # 1, 1.5, 2, 3
    assert first.p90_hours == pytest.approx(3.0)
    assert (resolution.tickets, resolution.measured) == (5, 3)
    assert resolution.median_hours == pytest.approx(7.0)  # 5, 7, 8
    assert resolution.p90_hours == pytest.approx(8.0)


def test_percentiles_use_the_nearest_rank():
    assert reports.percentile_nearest_rank([], 0.9) is None
    assert reports.percentile_nearest_rank([4.0], 0.9) == 4.0
    assert reports.percentile_nearest_rank(list(range(1, 11)), 0.9) == 9
    assert reports.percentile_nearest_rank(list(range(1, 12)), 0.9) == 10


def test_backlog_and_overdue_are_counted_now(week):
    with week.session() as session:
        backlog = reports.backlog(session, period(), NOW)
        widget = reports.backlog(session, period(channel="widget"), NOW)
    assert backlog.by_status == {"open": 2, "in_progress": 1, "waiting_on_user": 1}
    assert backlog.overdue == 1  # T5: T3 was answered, T6 is not due yet
    assert widget.by_status == {"open": 1, "in_progress": 1, "waiting_on_user": 0} and widget.overdue == 1


def test_top_topics_unanswered_messages_and_satisfaction(week):
    with week.session() as session:
        topics = reports.top_topics(session, period())
        unanswered = reports.top_unanswered(session, period())
        votes = reports.satisfaction(session, period())
    assert [(item.topic, item.answered) for item in topics] == [
        ("congedo_paternita", 2), ("part_time", 2), ("welfare_aziendale_definizione", 1)]
    assert topics[0].title != "congedo_paternita"  # the knowledge base's title
    # "sì" and "voglio parlare con una persona" steer the conversation: not counted
    assert [(item.text, item.count) for item in unanswered] == [
        ("COME funziona la pensione anticipata", 2), (XSS, 1), (TRICKY, 1), ("how do I file taxes", 1)]
    assert [(item.topic, item.helpful, item.not_helpful, item.helpful_share) for item in votes] == [
        ("congedo_paternita", 3, 1, 0.75), ("part_time", 0, 2, 0.0)]


def test_breakdowns_per_channel_and_language(week):
    with week.session() as session:
        channels = reports.breakdown(session, period(), "channel", CALENDAR)
        languages = reports.breakdown(session, period(), "language", CALENDAR)
    assert [(row.value, row.containment.conversations, row.containment.contained, row.containment.escalated,
             row.containment.unanswered, row.tickets, row.first_response_median) for row in channels] == [
        ("telegram", 3, 1, 2, 0, 2, 1.75), ("rest", 3, 2, 0, 1, 1, 3.0), ("widget", 2, 1, 0, 1, 2, 1.0)]
    assert [(row.value, row.containment.conversations, row.containment.contained, row.tickets, row.first_response_median)
            for row in languages] == [("it", 7, 3, 4, 1.75), ("en", 1, 1, 1, None)]


def test_the_report_page_shows_the_figures_and_safe_chart_data(week, desk_login):
    client = desk_login(Role.SUPERVISOR)
    response = client.get("/reports/", query_string=WEEK)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "50,0%" in html and "delle 8 conversazioni" in html
    assert "1,8 h" in html and "7,0 h" in html  # first-response median 1.75, resolution median 7
    assert "<script>alert(1)" not in html and "&lt;/script&gt;&lt;script&gt;alert(1)" in html
    assert "vendor/chart.umd.js" in html
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert data["containment"]["values"] == [4, 2, 2]
    assert data["escalations"]["series"][1]["values"] == [2, 0, 1, 0, 1, 1, 0]
    assert data["response_times"]["series"][0]["values"] == [1.75, 7.0]
    for section in ("containment", "escalations", "response_times", "backlog", "topics", "unanswered",
                    "satisfaction", "channels", "languages"):
        assert f"/reports/{section}.csv?from=2026-03-02" in html.replace("&amp;", "&")


def test_the_filters_reach_the_page(week, desk_login):
    client = desk_login(Role.ADMIN)
    html = client.get("/reports/", query_string={**WEEK, "language": "en"}).get_data(as_text=True)
    assert "delle 1 conversazioni" in html
    html = client.get("/reports/", query_string={"from": "2026-03-09", "to": "2026-03-02"}).get_data(as_text=True)
    assert "La data di inizio viene dopo la data di fine" in html


def read_csv(response):
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_exports_escape_quotes_commas_newlines_and_formulas(week, desk_login):
    client = desk_login(Role.SUPERVISOR)
    response = client.get("/reports/unanswered.csv", query_string=WEEK)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="dialoga-unanswered-2026-03-02-2026-03-08.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["Messaggio", "Volte", "Ultima volta", "Canali", "Lingue"]
    assert rows[1] == ["COME funziona la pensione anticipata", "2", "2026-03-04 11:02", "telegram, widget", "it"]
    assert [row[0] for row in rows[2:]] == [XSS, "'" + TRICKY, "how do I file taxes"]
    assert len(rows) == 5


def test_every_section_exports_the_rows_of_its_table(week, desk_login):
    client = desk_login(Role.SUPERVISOR)
    times = read_csv(client.get("/reports/response_times.csv", query_string=WEEK))
    assert times[1:] == [["Prima risposta", "5", "4", "1.75", "3.00"], ["Risoluzione", "5", "3", "7.00", "8.00"]]
    days = read_csv(client.get("/reports/escalations.csv", query_string=WEEK))
    assert days[1] == ["2026-03-02", "1", "2"] and len(days) == 8
    votes = read_csv(client.get("/reports/satisfaction.csv", query_string={**WEEK, "channel": "widget"}))
    assert [row[0] for row in votes[1:]] == ["congedo_paternita"] and votes[1][2:] == ["0", "1", "1", "0.0000"]
    assert client.get("/reports/nothing.csv", query_string=WEEK).status_code == 404
    assert client.get("/reports/topics.csv", query_string={"from": "ieri"}).status_code == 400


def test_formula_prefixes_are_defused():
    for text in ("=1+1", "+39 02", "-5", "@SUM(A1)", "\tx", "\rx"):
        assert defuse_formula(text) == "'" + text
    assert defuse_formula("congedo = 5 mesi") == "congedo = 5 mesi"


def test_operators_may_not_see_the_reports(desk_login):
    operator = desk_login(Role.OPERATOR)
    assert operator.get("/reports/").status_code == 403
    assert operator.get("/reports/containment.csv").status_code == 403
    supervisor = desk_login(Role.SUPERVISOR)
    assert supervisor.get("/reports/").status_code == 200
    assert supervisor.get("/reports/containment.csv").status_code == 200


def test_the_default_period_is_the_last_thirty_days_in_rome():
    found, errors = period_from_args({}, date(2026, 3, 30))
    assert errors == [] and (found.first_day, found.last_day) == (date(2026, 3, 1), date(2026, 3, 30))
    # 30 March is after the switch to summer time: the day starts at 22:00 UTC
    assert found.bounds() == (datetime(2026, 2, 28, 23, 0), datetime(2026, 3, 30, 22, 0))
