"""The ticket queue on SQLite and PostgreSQL through the desk's web app: default view,
filters, search, sort, pagination, the live fragment and the next-ticket shortcut."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from markupsafe import escape
from sqlalchemy import text

from desk.models import Role, TicketStatus
from desk.services import knowledge, queue, tickets
from desk.services.queue import QueueFilter
from tests.support.queue import days_ago, open_ticket, refs_in, with_ticket

OPERATOR = "operator@sportello.example"


def get_refs(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return refs_in(response.get_data(as_text=True))


def test_the_queue_shows_active_tickets_by_sla_due_time(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    later = open_ticket(seeded_database, "later", opened=days_ago(1))
    earliest = open_ticket(seeded_database, "earliest", opened=days_ago(10))
    middle = open_ticket(seeded_database, "middle", opened=days_ago(5))
    waiting = open_ticket(seeded_database, "waiting", opened=days_ago(3))
    resolved = open_ticket(seeded_database, "resolved", opened=days_ago(20))
    closed = open_ticket(seeded_database, "closed", opened=days_ago(30))
    with_ticket(seeded_database, waiting, lambda s, t: tickets.change_status(s, t, "waiting_on_user", "op"))
    with_ticket(seeded_database, resolved, lambda s, t: tickets.change_status(s, t, "resolved", "op"))
    with_ticket(seeded_database, closed, lambda s, t: tickets.close(s, t, "op"))

    assert get_refs(client, "/coda") == [earliest, middle, waiting, later]
    assert get_refs(client, "/coda?status=all") == [closed, resolved, earliest, middle, waiting, later]
    assert get_refs(client, "/coda?status=resolved") == [resolved]
    assert get_refs(client, "/coda?status=closed") == [closed]
    assert get_refs(client, "/coda?status=waiting_on_user") == [waiting]
    assert get_refs(client, "/coda?sort=newest") == [later, waiting, middle, earliest]
    assert get_refs(client, "/coda?sort=oldest") == [earliest, middle, waiting, later]
    assert get_refs(client, "/coda?status=nonsense") == [earliest, middle, waiting, later]  # unknown: default view


def test_filters_by_channel_suggested_category_assignee_and_overdue(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    telegram_welfare = open_ticket(seeded_database, "tw", opened=days_ago(9))
    widget_leave = open_ticket(
        seeded_database, "wl", opened=days_ago(0.01), channel="widget",
        suggested_topics=[{"topic": "congedo_paternita", "confidence": 0.5}, {"topic": "welfare_pmi_avvio", "confidence": 0.2}],
    )
    no_topic = open_ticket(seeded_database, "nt", opened=days_ago(0.02), suggested_topics=[])
    with_ticket(seeded_database, widget_leave, lambda s, t: tickets.assign(s, t, OPERATOR, OPERATOR))
    with_ticket(seeded_database, no_topic, lambda s, t: tickets.assign(s, t, "altro@sportello.example", OPERATOR))

    assert get_refs(client, "/coda?channel=widget") == [widget_leave]
    assert set(get_refs(client, "/coda?channel=telegram")) == {telegram_welfare, no_topic}
    # The category is the first suggested topic only.
    assert get_refs(client, "/coda?topic=welfare_pmi_avvio") == [telegram_welfare]
    assert get_refs(client, "/coda?topic=congedo_paternita") == [widget_leave]
    assert get_refs(client, "/coda?assignee=mine") == [widget_leave]
    assert get_refs(client, "/coda?assignee=unassigned") == [telegram_welfare]
    assert get_refs(client, "/coda?assignee=altro@sportello.example") == [no_topic]
    # Opened nine days ago: 16 business hours are long gone. The others are hours old.
    assert get_refs(client, "/coda?overdue=1") == [telegram_welfare]
    with_ticket(seeded_database, telegram_welfare, lambda s, t: tickets.change_status(s, t, "resolved", "op"))
    assert get_refs(client, "/coda?overdue=1&status=all") == []  # a resolved ticket is never overdue

    page = client.get("/coda?topic=congedo_paternita").get_data(as_text=True)
    with seeded_database.session() as session:
        title = knowledge.find_entry(session, "congedo_paternita").title_it
    assert str(escape(title)) in page  # the knowledge base's title names the category


def test_overdue_tickets_are_marked_with_their_business_hours(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    open_ticket(seeded_database, "late", opened=days_ago(9))
    open_ticket(seeded_database, "fresh")
    html = client.get("/coda").get_data(as_text=True)
    assert html.count('class="is-overdue"') == 1
    assert "scaduto da" in html and ("mancano" in html or "tra " in html)


def test_search_reads_question_transcript_name_and_reference(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    nursery = open_ticket(
        seeded_database, "nursery", question="Il rimborso dell'asilo nido rientra nel welfare aziendale?",
        transcript=[{"who": "user", "text": "Mia figlia va al nido comunale di Lambrate, perché pago così tanto?"},
                    {"who": "bot", "text": "Vuoi parlare con una persona?"}],
        name="Giovanna Brambilla",
    )
    paternity = open_ticket(
        seeded_database, "paternity", question="Quanti giorni di congedo spettano al papà?",
        transcript=[{"who": "user", "text": "sono un papà artigiano a Monza"}], name="Luca Colombo",
    )
    assert get_refs(client, "/coda?q=asilo") == [nursery]
    assert get_refs(client, "/coda?q=Lambrate") == [nursery]  # only in the transcript
    assert get_refs(client, "/coda?q=perché") == [nursery]  # accented, inside the JSON transcript
    assert get_refs(client, "/coda?q=papà+Monza") == [paternity]  # every word must match
    assert get_refs(client, "/coda?q=congedo+Lambrate") == []
    assert get_refs(client, "/coda?q=brambilla") == [nursery]  # the user's name, any case
    assert get_refs(client, "/coda?q=rimb") == [nursery]  # word prefixes match
    assert get_refs(client, f"/coda?q={paternity.lower().replace('-', ' ')}") == [paternity]
    assert set(get_refs(client, "/coda?q=%25%25")) == {nursery, paternity}  # no words: no search
    with_ticket(seeded_database, nursery, lambda s, t: tickets.close(s, t, "op"))
    assert get_refs(client, "/coda?q=asilo") == []  # the default view holds active tickets only
    assert get_refs(client, "/coda?q=asilo&status=all") == [nursery]


def test_the_queue_is_paginated_without_counting_every_row(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    opened = [open_ticket(seeded_database, f"t{number}", opened=days_ago(40 - number)) for number in range(queue.PAGE_SIZE + 3)]
    first = client.get("/coda").get_data(as_text=True)
    assert refs_in(first) == opened[:queue.PAGE_SIZE]
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/coda?page=2").get_data(as_text=True)
    assert refs_in(second) == opened[queue.PAGE_SIZE:]
    assert 'rel="next"' not in second and 'rel="prev"' in second
    assert f"Ticket {queue.PAGE_SIZE + 1}–{queue.PAGE_SIZE + 3}" in second
    assert get_refs(client, "/coda?page=abc") == opened[:queue.PAGE_SIZE]


def test_the_live_fragment_brings_tickets_opened_after_the_page_was_loaded(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    first = open_ticket(seeded_database, "first", opened=days_ago(2))
    page = client.get("/coda?channel=telegram").get_data(as_text=True)
    poll_url = re.search(r'hx-get="([^"]+)"\s+hx-trigger="every 5s"', page).group(1).replace("&amp;", "&")
    assert "/coda/risultati" in poll_url and "channel=telegram" in poll_url and "since=" in poll_url

    quiet = client.get(poll_url).get_data(as_text=True)
    assert refs_in(quiet) == [first] and 'data-new-count="0"' in quiet and "<html" not in quiet

    arrived = open_ticket(seeded_database, "arrived")  # as the assistant opens it, while the page is open
    fresh = client.get(poll_url).get_data(as_text=True)
    assert refs_in(fresh) == [first, arrived]
    assert 'data-new-count="1"' in fresh and "1 nuovo da quando hai aperto la pagina" in fresh
    assert fresh.count('class="badge new"') == 1 and 'hx-trigger="every 5s"' in fresh


def test_the_first_ticket_of_an_empty_queue_counts_as_new(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    page = client.get("/coda").get_data(as_text=True)
    assert "Nessun ticket corrisponde ai filtri" in page
    poll_url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    first = open_ticket(seeded_database, "first-ever")
    fresh = client.get(poll_url).get_data(as_text=True)
    assert refs_in(fresh) == [first] and 'data-new-count="1"' in fresh


def test_take_from_the_queue_returns_to_the_same_view(seeded_database, desk_login):
    from tests.support.desk import post_form

    client = desk_login(Role.OPERATOR)
    ref = open_ticket(seeded_database, "take-me", channel="widget")
    response = post_form(client, f"/ticket/{ref}/prendi", {"back": "queue", "queue_args": "channel=widget&evil=1"}, page="/coda")
    assert response.status_code == 302 and response.headers["Location"] == "/coda?channel=widget"
    with seeded_database.session() as session:
        ticket = tickets.find_by_ref(session, ref)
        assert ticket.assignee == OPERATOR and ticket.current_status is TicketStatus.IN_PROGRESS
    assert get_refs(client, "/coda?assignee=mine") == [ref]


def test_next_ticket_goes_to_the_most_urgent_free_or_own_ticket(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    someone_elses = open_ticket(seeded_database, "else", opened=days_ago(9))
    urgent = open_ticket(seeded_database, "urgent", opened=days_ago(5))
    later = open_ticket(seeded_database, "later", opened=days_ago(1))
    with_ticket(seeded_database, someone_elses, lambda s, t: tickets.assign(s, t, "altro@sportello.example", "x"))
    assert client.get("/coda/prossimo").headers["Location"] == f"/ticket/{urgent}"
    assert client.get(f"/coda/prossimo?dopo={urgent}").headers["Location"] == f"/ticket/{later}"
    response = client.get(f"/coda/prossimo?dopo={later}")
    assert response.headers["Location"] == "/coda"
    assert "Non ci sono altri ticket" in client.get("/coda").get_data(as_text=True)


def test_the_queue_page_documents_shortcuts_and_offers_notifications(seeded_database, desk_login):
    html = desk_login(Role.OPERATOR).get("/coda").get_data(as_text=True)
    for key in ("<kbd>j</kbd>", "<kbd>k</kbd>", "<kbd>t</kbd>", "<kbd>r</kbd>"):
        assert key in html
    assert 'id="notify-toggle"' in html and "js/queue.js" in html


def test_filters_survive_a_round_trip_through_the_query_string():
    view = QueueFilter.from_args({"status": "closed", "channel": "widget", "topic": "part_time", "assignee": "mine",
                                  "overdue": "1", "q": "  asilo   nido ", "sort": "newest", "page": "3"})
    assert view.search == "asilo nido"
    assert QueueFilter.from_args(view.query_args()) == view
    assert QueueFilter.from_args({}).query_args() == {} and QueueFilter.from_args({}).is_default
    assert QueueFilter.from_args({"page": "-4", "sort": "random"}) == QueueFilter()


def test_postgresql_queue_views_can_use_their_indexes(seeded_database):
    """On a tiny table the planner would rightly read everything: turning sequential scans off
    shows which index each view's query can use (a regression guard for the 100k-ticket benchmark)."""
    if seeded_database.engine.dialect.name != "postgresql":
        pytest.skip("the GIN and expression indexes exist on PostgreSQL only")
    open_ticket(seeded_database, "one")
    expected = {
        "ix_tickets_search": QueueFilter(search="asilo nido", status="all"),
        "ix_tickets_active_sla_due_at": QueueFilter(),
        "ix_tickets_sla_due_at": QueueFilter(status="all"),
        "ix_tickets_active_topic_sla_due_at": QueueFilter(topic="part_time"),
    }
    with seeded_database.session() as session:
        for index, view in expected.items():
            statement = queue.find_tickets_statement(session, view, OPERATOR, datetime(2026, 11, 23, 8))
            compiled = statement.compile(seeded_database.engine, compile_kwargs={"literal_binds": True})
            session.execute(text("SET LOCAL enable_seqscan = off"))
            # Searches must be answered by the GIN index; the other views read an index in SLA order.
            session.execute(text(f"SET LOCAL enable_indexscan = {'off' if view.search else 'on'}"))
            session.execute(text(f"SET LOCAL enable_bitmapscan = {'on' if view.search else 'off'}"))
            plan = "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
            assert index in plan, (index, plan)
