"""Clarifications in the desk, on both databases: what reports show (how often, which topics,
which choice), and the learning loop's confirm / reject list, where confirming writes the
message under the chosen topic through the labelling path (diff first)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from desk.models import Clarification, LearningDecision, Role
from desk.models.base import utcnow
from desk.services import clarifications, learning, reports
from desk.services.periods import Period
from tests.support.desk import post_form
from tests.test_learning import add_turns, confirm_fields, desk, nlu_dir  # noqa: F401 (fixtures)


def last_days() -> Period:
    today = utcnow().date()
    return Period(first_day=today - timedelta(days=30), last_day=today + timedelta(days=1))


def read_csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def clarify(database, text, offered, then=None, language="it", conversation=None):
    """A clarification of `text`, then the user's next turn (an intent, or None for no answer)."""
    conversation = conversation or f"conv-{text}"
    with database.session() as session:
        clarifications.record_offer(session, conversation, text, language, offered, channel="widget", intent="nlu_fallback")
    if then is not None:
        with database.session() as session:
            clarifications.record_choice(session, conversation, offered, then)


def test_choices_are_told_apart_and_only_the_latest_open_clarification_takes_one(seeded_database):
    clarify(seeded_database, "fondo", ["sanarti", "mutue_integrative"], conversation="c1")
    clarify(seeded_database, "fondo artigiani", ["fsba_sostegno_reddito", "sanarti"], conversation="c1")
    with seeded_database.session() as session:
        chosen = clarifications.record_choice(session, "c1", ["fsba_sostegno_reddito", "sanarti"], "sanarti")
        assert (chosen.turn.text, chosen.choice, chosen.chosen_topic) == ("fondo artigiani", "topic", "sanarti")
    with seeded_database.session() as session:
        assert clarifications.record_choice(session, "nobody", ["sanarti"], "sanarti") is None
    assert clarifications.choice_of(["sanarti"], "request_human")[0].value == "person"
    assert clarifications.choice_of(["sanarti"], "mutue_integrative")[0].value == "other"  # not offered


def test_reports_count_clarifications_their_topics_and_choices(seeded_database, desk_login):
    clarify(seeded_database, "fondo", ["sanarti", "mutue_integrative", "fsba_sostegno_reddito"], then="mutue_integrative")
    clarify(seeded_database, "figli", ["sanarti", "smart_working_priorita"], then="request_human")
    clarify(seeded_database, "boh fondi", ["sanarti"], then="greet")
    clarify(seeded_database, "fondi?", ["fsba_sostegno_reddito", "sanarti"])
    add_turns(seeded_database, ["una domanda qualsiasi"] * 4, outcome="answered", intent="part_time")
    with seeded_database.session() as session:
        summary = reports.clarification_summary(session, last_days())
        assert (summary.total, summary.turns) == (4, 8)
        assert summary.choices == {"topic": 1, "person": 1, "other": 1, "none": 1}
        by_topic = {item.topic: (item.offered, item.first, item.chosen) for item in summary.topics}
        assert by_topic["sanarti"] == (4, 3, 0)
        assert by_topic["mutue_integrative"] == (1, 0, 1)
        assert summary.topics[0].topic == "sanarti"
        # A clarification counts as a clarified turn in containment, not as an answer.
        assert reports.containment(session, last_days()).turns["clarified"] == 4

    client = desk_login(Role.SUPERVISOR)
    today = utcnow().date()
    query = {"from": (today - timedelta(days=30)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    html = client.get("/reports/", query_string=query).get_data(as_text=True)
    assert "Chiarimenti e scelte degli utenti" in html and "Argomenti proposti nei chiarimenti" in html
    assert "Ha chiesto una persona" in html
    rows = read_csv(client.get("/reports/clarifications.csv", query_string=query))
    assert rows[1] == ["Chiarimenti chiesti", "4", "0.5000"]
    assert rows[2:] == [["Ha scelto uno degli argomenti", "1", "0.2500"], ["Ha chiesto una persona", "1", "0.2500"],
                        ["Ha scritto altro", "1", "0.2500"], ["Nessuna risposta", "1", "0.2500"]]
    topics = read_csv(client.get("/reports/clarified_topics.csv", query_string=query))
    assert topics[1][0] == "sanarti" and topics[1][2:5] == ["4", "3", "0"]


def test_a_chosen_topic_awaits_confirmation_and_confirming_writes_it_after_the_diff(desk, seeded_database, nlu_dir):
    clarify(seeded_database, "fondo sanitario per artigiani", ["sanarti", "mutue_integrative"], then="sanarti")
    clarify(seeded_database, "aiuto figli", ["smart_working_priorita"], then="request_human")
    client = desk()
    page = client.get("/learning/").get_data(as_text=True)
    assert "Scelte degli utenti dopo un chiarimento" in page
    listed = page[page.index('id="h-clarified"'):page.index('id="h-drafts"')]
    assert "fondo sanitario per artigiani" in listed and "aiuto figli" not in listed
    # A clarification that did not end in a topic is an unanswered message like any other.
    assert "«aiuto figli»" in page and "«fondo sanitario per artigiani»" not in page

    with seeded_database.session() as session:
        clarification_id = session.scalars(select(Clarification.id).where(Clarification.choice == "topic")).one()
    preview = post_form(client, f"/learning/clarifications/{clarification_id}/preview", {}, page="/learning/")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "+    - fondo sanitario per artigiani" in html and "+- intent: sanarti" in html
    assert not (nlu_dir / "it" / "learned.yml").exists()  # nothing written before the confirmation

    fields = confirm_fields(html)
    assert fields["clarification"] == [str(clarification_id)]
    assert post_form(client, "/learning/label", fields, page="/learning/").status_code == 302
    assert learning.read_learned(nlu_dir / "it" / "learned.yml") == {"sanarti": ["fondo sanitario per artigiani"]}
    with seeded_database.session() as session:
        clarification = session.get(Clarification, clarification_id)
        assert clarification.review == "confirmed" and clarification.reviewed_by
        assert session.scalars(select(LearningDecision.topic)).all() == ["sanarti"]
    page = client.get("/learning/").get_data(as_text=True)
    listed = page[page.index('id="h-clarified"'):page.index('id="h-drafts"')]
    assert "fondo sanitario per artigiani" not in listed
    # Confirming twice is refused rather than writing again.
    assert post_form(client, "/learning/label", fields, page="/learning/").status_code == 409


def test_a_confirmation_cannot_change_the_topic_the_user_chose(desk, seeded_database, nlu_dir):
    clarify(seeded_database, "fondo per la salute", ["sanarti", "mutue_integrative"], then="sanarti")
    client = desk()
    with seeded_database.session() as session:
        clarification = session.scalars(select(Clarification)).one()
        fields = {"topic": "mutue_integrative", "group": [clarification.turn_id], "example": [clarification.turn_id],
                  "clarification": clarification.id}
    assert post_form(client, "/learning/label", fields, page="/learning/").status_code == 400
    assert not (nlu_dir / "it" / "learned.yml").exists()


def test_rejecting_a_choice_writes_nothing_and_takes_it_off_the_list(desk, seeded_database, nlu_dir):
    clarify(seeded_database, "fondo", ["sanarti", "mutue_integrative"], then="mutue_integrative")
    client = desk()
    with seeded_database.session() as session:
        clarification_id = session.scalars(select(Clarification.id)).one()
    response = post_form(client, f"/learning/clarifications/{clarification_id}/reject", {}, page="/learning/")
    assert response.status_code == 302
    with seeded_database.session() as session:
        assert session.get(Clarification, clarification_id).review == "rejected"
    page = client.get("/learning/").get_data(as_text=True)
    assert "Nessuna scelta da confermare in questo periodo." in page
    assert not (nlu_dir / "it" / "learned.yml").exists()
    # Rejected once is final: a second rejection or a confirmation is not offered.
    response = post_form(client, f"/learning/clarifications/{clarification_id}/preview", {}, page="/learning/")
    assert response.status_code == 302 and not (nlu_dir / "it" / "learned.yml").exists()
