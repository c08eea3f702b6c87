"""The checks' parameters in the database (seeding, edits with versions, periods), the
desk page supervisors edit them on, the usage counts in the reports, and the actions
computing with what the database holds — on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from actions.checks import ActionCheckResult, ActionStartCheck, ActionStartCheckIntake
from desk.config import PROJECT_ROOT
from desk.models import CheckEvent, CheckParameter, CheckParameterVersion, Role
from desk.services import analytics, checks, reports
from desk.services.checks.parameters import (SEED_FILE, InvalidParameter, ParameterConflict, add_period, content,
                                             edit_parameter, history, parameters_from_database, parameters_from_seed,
                                             seed_parameters)
from desk.services.periods import Period
from desk.web.knowledge import today
from tests.support.desk import post_form
from tests.test_actions import action_database, run, tracker  # noqa: F401 (fixture)

SEED = PROJECT_ROOT / "data" / "knowledge" / SEED_FILE
FRINGE_ANSWERS = {"dependent_children": False, "given": "300", "planned": "0"}


def row_of(session, key, valid_from=None):
    query = select(CheckParameter).where(CheckParameter.key == key)
    if valid_from:
        query = query.where(CheckParameter.valid_from == valid_from)
    return session.scalars(query.order_by(CheckParameter.valid_from.desc())).first()


def edit_values(row, **changes):
    return dict(content(row), **changes)


def test_seeding_is_idempotent_and_keeps_what_the_desk_edited(database):
    seeded = len(parameters_from_seed(SEED).fresh()._by_key)
    with database.session() as session:
        first = seed_parameters(session, SEED)
        assert first.created and not first.updated
        assert len({label.split("@")[0] for label in first.created}) == seeded
    with database.session() as session:
        again = seed_parameters(session, SEED)
        assert again.created == [] and again.updated == [] and len(again.unchanged) == len(first.created)
        row = row_of(session, "fringe_benefit.ceiling")
        edit_parameter(session, row.id, edit_values(row, value="1100"), "capo@sportello.example", row.version, today())
    with database.session() as session:
        third = seed_parameters(session, SEED)
        assert third.kept_edited == ["fringe_benefit.ceiling@2025-01-01"]
        assert row_of(session, "fringe_benefit.ceiling").value == "1100"


def test_the_database_gives_the_same_results_as_the_seed_file(database):
    with database.session() as session:
        seed_parameters(session, SEED)
        stored = parameters_from_database(session)
    answers = {"child_date": "2025-03-10", "maternity_end": "2025-06-10", "single_parent": False,
               "months_used_mother": "2", "months_used_father": "0", "months_used_high": "2",
               "income_below_limit": "unknown"}
    day = date(2026, 12, 1)
    from_db = checks.run_check("congedo_parentale", answers, stored, day)
    from_seed = checks.run_check("congedo_parentale", answers, parameters_from_seed(SEED), day)
    assert from_db.figures == from_seed.figures and from_db.sources() == from_seed.sources()


def test_an_edit_is_a_version_with_its_author_and_a_diff(database):
    with database.session() as session:
        seed_parameters(session, SEED)
        row = row_of(session, "fringe_benefit.ceiling_with_children")
        edit_parameter(session, row.id, edit_values(row, value="2500", source="Legge di prova"), "capo@sportello.example",
                       1, today(), note="new law")
        [latest, first] = history(session, row.id)
        assert (latest.version, latest.author, latest.note) == (2, "capo@sportello.example", "new law")
        assert "+2500" in latest.diff and "-2000" in latest.diff and "+Legge di prova" in latest.diff
        assert first.author == "seed"
        assert session.scalars(select(CheckParameterVersion).where(
            CheckParameterVersion.parameter_id == row.id)).all()[-1].content["value"] == "2500"
        with pytest.raises(ParameterConflict):
            edit_parameter(session, row.id, edit_values(row, value="3000"), "altro@sportello.example", 1, today())


@pytest.mark.parametrize("changes,field", [
    ({"value": "mille"}, "value"),
    ({"value": "-5"}, "value"),
    ({"valid_until": date(2024, 1, 1)}, "valid_until"),
    ({"source": " "}, "source"),
    ({"topic": "pensioni"}, "topic"),
    ({"source_url": "javascript:alert(1)"}, "source_url"),
    ({"verified_on": date.today() + timedelta(days=10)}, "verified_on"),
    ({"valid_from": date(2024, 6, 1), "valid_until": date(2024, 12, 31)}, "valid_from"),  # overlaps 2024's row
])
def test_invalid_edits_are_refused_field_by_field(database, changes, field):
    with database.session() as session:
        seed_parameters(session, SEED)
        row = row_of(session, "congedo_parentale.months_rate_high", date(2025, 1, 1))
        with pytest.raises(InvalidParameter) as refused:
            edit_parameter(session, row.id, edit_values(row, **changes), "capo@sportello.example", row.version, today())
        assert field in refused.value.errors


def test_a_rule_past_its_period_is_not_used_until_a_new_period_is_added(database):
    day = date(2026, 12, 1)
    with database.session() as session:
        seed_parameters(session, SEED)
        row = row_of(session, "fringe_benefit.ceiling")
        edit_parameter(session, row.id, edit_values(row, valid_until=date(2026, 11, 30)), "capo@sportello.example",
                       row.version, today())
        result = checks.run_check("fringe_benefit", FRINGE_ANSWERS, parameters_from_database(session), day)
        assert result.outdated == "fringe_benefit.ceiling" and result.figures == {}
        add_period(session, "fringe_benefit.ceiling", edit_values(row, value="1200", valid_from=date(2026, 12, 1),
                                                                  valid_until=date(2026, 12, 31)),
                   "capo@sportello.example", today())
        result = checks.run_check("fringe_benefit", FRINGE_ANSWERS, parameters_from_database(session), day)
        assert result.outdated is None and result.figures["ceiling"] == 1200 and result.figures["left"] == 900


def test_supervisors_edit_parameters_in_the_desk_and_operators_cannot(seeded_database, desk_login):
    with seeded_database.session() as session:
        seed_parameters(session, SEED)
        row = row_of(session, "bonus_asilo_nido.amount_band_1")
        row_id, form = row.id, {name: (value.isoformat() if isinstance(value, date) else value or "")
                                for name, value in content(row).items()}
    assert desk_login(Role.OPERATOR).get("/verifiche/parametri/").status_code == 403
    client = desk_login(Role.SUPERVISOR)
    page = client.get("/verifiche/parametri/").get_data(as_text=True)
    assert 'data-key="bonus_asilo_nido.amount_band_1"' in page and "INPS circolare 60/2025" in page
    assert "Parametri delle verifiche" in client.get("/").get_data(as_text=True)
    form.update(value="3100", unconfirmed="", base_version="1", note="circolare 2027")
    form.pop("unconfirmed")
    response = post_form(client, f"/verifiche/parametri/{row_id}", form, page="/verifiche/parametri/")
    assert response.status_code == 302
    history_page = client.get(f"/verifiche/parametri/{row_id}/versioni").get_data(as_text=True)
    assert "circolare 2027" in history_page and "+3100" in history_page
    with seeded_database.session() as session:
        assert row_of(session, "bonus_asilo_nido.amount_band_1").value == "3100"
    form.update(value="tremila", base_version="2")
    refused = post_form(client, f"/verifiche/parametri/{row_id}", form, page="/verifiche/parametri/")
    assert refused.status_code == 422 and "deve essere un numero" in refused.get_data(as_text=True)
    # Next year's value is a new period of the same rule; an overlapping one is refused.
    assert "Nuovo periodo" in client.get(f"/verifiche/parametri/{row_id}/nuovo-periodo").get_data(as_text=True)
    form.update(value="3200", valid_from="2027-01-01", valid_until="2027-12-31")
    created = post_form(client, f"/verifiche/parametri/{row_id}/nuovo-periodo", form, page="/verifiche/parametri/")
    assert created.status_code == 302
    overlapping = post_form(client, f"/verifiche/parametri/{row_id}/nuovo-periodo", dict(form, valid_from="2027-06-01"),
                            page="/verifiche/parametri/")
    assert overlapping.status_code == 422 and "si sovrappone" in overlapping.get_data(as_text=True)
    with seeded_database.session() as session:
        assert [(row.value, row.edited_in_desk) for row in session.scalars(select(CheckParameter).where(
            CheckParameter.key == "bonus_asilo_nido.amount_band_1").order_by(CheckParameter.valid_from))] == \
            [("3100", True), ("3200", True)]


def test_the_desk_flags_rules_with_no_period_covering_today(seeded_database, desk_login):
    with seeded_database.session() as session:
        seed_parameters(session, SEED)
        row = row_of(session, "permessi_104.days_per_month")
        edit_parameter(session, row.id, edit_values(row, valid_until=today() - timedelta(days=1)), "capo@x.example",
                       row.version, today())
    page = desk_login(Role.SUPERVISOR).get("/verifiche/parametri/").get_data(as_text=True)
    updating = re.search(r'id="updating">(.*?)</p>', page, re.S).group(1)
    assert "permessi_104.days_per_month" in updating and "fringe_benefit.ceiling" not in updating


def test_the_result_action_computes_with_the_database_and_counts_usage(action_database):
    with action_database.session() as session:
        seed_parameters(session, SEED)
    slots = {"language": "en", "check_id": "fringe_benefit", "fringe_benefit_dependent_children": False,
             "fringe_benefit_given": "800", "fringe_benefit_planned": "300"}
    run(ActionStartCheck(), tracker("/check_fringe_benefit", "check_fringe_benefit", slots={"language": "en"},
                                    sender="owner-1"))
    messages, events = run(ActionCheckResult(), tracker("300", slots=slots, sender="owner-1"))
    custom = messages[0]["custom"]
    assert custom["check"] == "fringe_benefit" and custom["result"]["over_ceiling"] is True
    assert custom["result"]["taxable_amount"] == 1100 and custom["result"]["left"] == 200
    assert custom["sources"] == [{"topic": "fringe_benefit_soglie", "verified_on": "2026-11-25",
                                  "source": "TUIR art. 51 c. 3; L. 207/2024 art. 1 c. 390-391"}]
    assert "whole €1,100 would become taxable" in messages[0]["text"]
    cleared = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
    assert cleared["fringe_benefit_given"] is None and cleared["check_id"] is None
    summary = cleared["check_summary"]
    assert "€800" in summary
    # The operator's ticket form starts with the result as its question.
    _, intake_events = run(ActionStartCheckIntake(), tracker("/affirm", "affirm", slots={"check_summary": summary}))
    drafts = [event["value"] for event in intake_events if event.get("name") == "intake_question_draft"]
    assert drafts == [summary]
    with action_database.session() as session:
        recorded = session.execute(select(CheckEvent.check_id, CheckEvent.event, CheckEvent.language)).all()
    assert sorted(recorded) == [("fringe_benefit", "completed", "en"), ("fringe_benefit", "started", "en")]


def test_reports_count_checks_started_completed_and_followed_by_a_ticket(seeded_database, desk_login):
    from tests.support.queue import open_ticket

    with seeded_database.session() as session:
        for conversation, events in (("conv-a", ("started", "completed")), ("conv-b", ("started", "cancelled")),
                                     ("conv-c", ("started", "completed")), ("conv-d", ("started", "outdated"))):
            for event in events:
                analytics.record_check_event(session, conversation, "congedo_parentale", event, "it", "telegram")
        analytics.record_check_event(session, "conv-e", "bonus_asilo_nido", "started", "en", "widget")
    open_ticket(seeded_database, "a")  # conversation conv-a, opened after its check's result
    period = Period(today() - timedelta(days=1), today() + timedelta(days=1))
    with seeded_database.session() as session:
        usage = {item.check: item for item in reports.check_usage(session, period, list(checks.CHECKS))}
    parental = usage["congedo_parentale"]
    assert (parental.started, parental.completed, parental.cancelled, parental.outdated,
            parental.followed_by_ticket) == (4, 2, 1, 1, 1)
    assert parental.completion_rate == 0.5
    assert (usage["bonus_asilo_nido"].started, usage["bonus_asilo_nido"].completed) == (1, 0)
    assert usage["permessi_104"].started == 0
    page = desk_login(Role.SUPERVISOR).get("/reports/").get_data(as_text=True)
    assert "Verifiche guidate" in page and "Seguite da un ticket" in page
    csv = desk_login(Role.SUPERVISOR).get(
        f"/reports/checks.csv?from={period.first_day.isoformat()}&to={period.last_day.isoformat()}").get_data(as_text=True)
    assert "Congedo parentale: quanto ti resta,4,2,0.5000,1,1,1" in csv.splitlines()


def form_tracker(slots, text, language="en"):
    """A tracker in the middle of the parental-leave form: the user just answered `text`."""
    from rasa_sdk import Tracker

    requested = slots["requested_slot"]
    events = [{"event": "user", "text": text, "parse_data": {}}, {"event": "slot", "name": requested, "value": text}]
    return Tracker("user-1", dict(slots, language=language, **{requested: text}),
                   {"text": text, "intent": {"name": "nlu_fallback"}, "entities": [], "metadata": {}},
                   events, False, None, {"name": "congedo_parentale_form"}, "rest")


def test_the_form_re_asks_a_wrong_answer_in_the_users_language_and_skips_what_is_not_needed(action_database):
    from actions.checks import GENERATED_ACTIONS, AskCheckField

    with action_database.session() as session:
        seed_parameters(session, SEED)
    actions = {action().name(): action() for action in GENERATED_ACTIONS}
    validate = actions["validate_congedo_parentale_form"]
    eight_years_old = (today() - timedelta(days=8 * 366)).isoformat()
    slots = {"requested_slot": "congedo_parentale_months_used_mother", "congedo_parentale_child_date": eight_years_old,
             "congedo_parentale_single_parent": False}
    messages, events = run(validate, form_tracker(slots, "13"))
    assert messages[0]["text"] == "That can't be right: the most is 6 months. Please check and write the number again."
    assert {"event": "slot", "name": "congedo_parentale_months_used_mother", "value": None,
            "timestamp": None} in events
    assert events[-1]["value"] == "congedo_parentale_months_used_mother"  # asked again
    messages, events = run(validate, form_tracker(slots, "due", language="it"))
    assert messages == []
    assert events[0]["value"] == "2" and events[-1]["value"] == "congedo_parentale_months_used_father"
    # Over 6, the months at 80% and the end of the maternity leave are never asked.
    slots.update(requested_slot="congedo_parentale_months_used_father", congedo_parentale_months_used_mother="2")
    _, events = run(validate, form_tracker(slots, "1"))
    assert events[-1]["value"] == "congedo_parentale_income_below_limit"
    # The income question shows the limit in force, from the database.
    ask = actions["action_ask_congedo_parentale_income_below_limit"]
    assert isinstance(ask, AskCheckField)
    messages, _ = run(ask, tracker(slots={"language": "it"}))
    assert "2,5 volte" in messages[0]["text"]
    assert messages[0]["custom"] == {"check": "congedo_parentale", "asks": "income_below_limit"}
    assert [button["title"] for button in messages[0]["buttons"]] == ["Sì, è sotto", "No, è sopra", "Non lo so"]
