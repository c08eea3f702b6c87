"""The knowledge-base editor: list with stale flags, edit with preview, versions with
diffs, revert, concurrent edits, validation; a save is in the assistant's next answer."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from actions.knowledge import ActionAnswerTopic
from desk.config import Settings
from desk.models import Role
from desk.services import knowledge
from desk.web.knowledge import today
from tests.support.desk import desk_app_for, log_in, make_user, post_form
from tests.test_actions import action_database, run, tracker  # noqa: F401 (fixture)

TOPIC = "part_time"


def form_of(entry, **changes):
    """The edit form as the browser posts it, from the entry's current content."""
    data = {
        "base_version": entry.version, "title_it": entry.title_it, "title_en": entry.title_en,
        "answer_it": entry.answer_it, "answer_en": entry.answer_en, "source": entry.source,
        "source_url": entry.source_url, "verified_on": entry.verified_on.isoformat(),
        "confidence": entry.confidence, "confidence_note": entry.confidence_note,
        "unconfirmed_points": "\n".join(entry.unconfirmed_points or []),
    }
    if entry.unconfirmed:
        data["unconfirmed"] = "on"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def entry_of(database, topic=TOPIC):
    with database.session() as session:
        return knowledge.find_entry(session, topic)


def test_the_list_shows_every_entry_with_its_date_and_stale_flag(seeded_database, desk_login):
    with seeded_database.session() as session:
        knowledge.update_entry(session, "doposcuola", {"verified_on": today() - timedelta(days=200)}, author="op")
        unconfirmed = {entry.topic for entry in knowledge.list_entries(session) if entry.unconfirmed}
        confirmed_fresh = next(e.topic for e in knowledge.list_entries(session) if not e.unconfirmed
                               and e.topic != "doposcuola")
    client = desk_login(Role.OPERATOR)
    page = client.get("/knowledge/").get_data(as_text=True)
    assert len(set(re.findall(r'href="/knowledge/([a-z_0-9]+)"', page))) == 42
    assert 'data-stale="doposcuola"' in page and "verificata più di 180 giorni fa" in page
    stale_page = client.get("/knowledge/?stale=1").get_data(as_text=True)
    flagged = set(re.findall(r'data-stale="([a-z_0-9]+)"', stale_page))
    assert flagged == unconfirmed | {"doposcuola"}
    assert f'href="/knowledge/{confirmed_fresh}"' not in stale_page


def test_the_stale_age_is_a_setting(seeded_database, monkeypatch):
    monkeypatch.setenv("DIALOGA_KB_STALE_DAYS", "365")
    assert Settings.from_env().knowledge_stale_days == 365
    assert Settings().knowledge_stale_days == 180
    with seeded_database.session() as session:
        knowledge.update_entry(session, "doposcuola", {"verified_on": today() - timedelta(days=200),
                                                       "unconfirmed": False}, author="op")
    app = desk_app_for(seeded_database, knowledge_stale_days=365)
    client = app.test_client()
    log_in(client, make_user(seeded_database, Role.OPERATOR))
    assert 'data-stale="doposcuola"' not in client.get("/knowledge/?area=servizi_famiglie").get_data(as_text=True)


def test_the_list_filters_by_area_and_text(desk_login):
    client = desk_login(Role.OPERATOR)
    page = client.get("/knowledge/?area=congedi").get_data(as_text=True)
    assert 'href="/knowledge/congedo_paternita"' in page and 'href="/knowledge/part_time"' not in page
    page = client.get("/knowledge/?q=FSBA").get_data(as_text=True)
    assert 'href="/knowledge/fsba_sostegno_reddito"' in page and 'href="/knowledge/bonus_asilo_nido"' not in page


def test_the_preview_shows_the_chat_answer_with_source_and_date_escaped(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    entry = entry_of(seeded_database)
    text = "Nuovo testo <script>alert(1)</script> sul part-time."
    response = post_form(client, f"/knowledge/{TOPIC}/preview", form_of(entry, answer_it=text),
                         headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in page and html.escape(text, quote=False) in page
    assert "Fonte: " + html.escape(entry.source, quote=False) in page
    assert "Verificato il " + entry.verified_on.strftime("%d/%m/%Y") in page
    assert "Last verified on" in page  # the English answer next to it
    assert entry_of(seeded_database).answer_it == entry.answer_it  # a preview saves nothing


def test_a_save_is_a_version_with_author_and_diff_and_revert_restores(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    original = entry_of(seeded_database)
    new_text = "Il part-time si chiede per iscritto <b>al datore</b>."
    response = post_form(client, f"/knowledge/{TOPIC}", form_of(original, answer_it=new_text, note="riscritta"))
    assert response.status_code == 302
    saved = entry_of(seeded_database)
    assert saved.answer_it == new_text and saved.version == original.version + 1
    assert saved.updated_by == "operator@sportello.example" and saved.edited_in_desk

    history = client.get(f"/knowledge/{TOPIC}/versions").get_data(as_text=True)
    assert "operator@sportello.example" in history and "riscritta" in history
    assert '<span class="add">+' + html.escape(new_text, quote=False) + "</span>" in history
    assert '<span class="del">-' in history and "<b>al datore</b>" not in history

    response = post_form(client, f"/knowledge/{TOPIC}/versions/{original.version}/revert",
                         {"base_version": saved.version}, follow_redirects=True)
    assert "Ripristinata la versione" in response.get_data(as_text=True)
    reverted = entry_of(seeded_database)
    assert reverted.answer_it == original.answer_it and reverted.version == saved.version + 1
    with seeded_database.session() as session:
        changes = knowledge.history(session, TOPIC)
    assert changes[0].note == f"reverted to version {original.version}"
    assert [change.author for change in changes] == ["operator@sportello.example"] * 2 + ["seed"]


def test_saving_without_changes_makes_no_version(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    entry = entry_of(seeded_database)
    assert post_form(client, f"/knowledge/{TOPIC}", form_of(entry)).status_code == 302
    assert entry_of(seeded_database).version == entry.version


def test_an_edit_based_on_an_old_version_is_refused_not_overwritten(seeded_database, desk_app, desk_login):
    first, second = desk_login(Role.OPERATOR), desk_login(Role.SUPERVISOR)
    loaded = entry_of(seeded_database)  # both opened the form at this version
    assert post_form(first, f"/knowledge/{TOPIC}", form_of(loaded, answer_en="First colleague's text.")).status_code == 302
    response = post_form(second, f"/knowledge/{TOPIC}", form_of(loaded, answer_en="Second colleague's text."))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nel frattempo operator@sportello.example ha salvato la versione" in page
    assert "NON sono state salvate" in page and "Second colleague&#39;s text." in page
    current = entry_of(seeded_database)
    assert current.answer_en == "First colleague's text." and current.version == loaded.version + 1
    # The refused form now carries the current version: saving again is a deliberate choice.
    assert f'name="base_version" value="{current.version}"' in page


def test_a_stale_revert_is_refused_too(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    loaded = entry_of(seeded_database)
    with seeded_database.session() as session:
        knowledge.update_entry(session, TOPIC, {"answer_en": "Meanwhile."}, author="collega@sportello.example")
    response = post_form(client, f"/knowledge/{TOPIC}/versions/1/revert", {"base_version": loaded.version},
                         follow_redirects=True)
    assert "Nel frattempo collega@sportello.example" in response.get_data(as_text=True)
    assert entry_of(seeded_database).answer_en == "Meanwhile."


@pytest.mark.parametrize("changes, field_message", [
    ({"sources": "https://www.inps.it | una fonte | letta | 2026-11-30"}, "non è la pagina che riporta il dato"),
    ({"sources": "https://example.org/pagina | una fonte | letta | 30/11/2026"}, "data non valida"),
    ({"answer_it": "Testo con [[fatto_inesistente]]."}, "fatti che non esistono"),
    ({"source_url": "javascript:alert(1)"}, "deve iniziare con http:// o https://"),
    ({"source_url": "ftp://example.org/x"}, "deve iniziare con http:// o https://"),
    ({"answer_it": "   "}, "Il testo non può essere vuoto"),
    ({"title_en": ""}, "Il testo non può essere vuoto"),
    ({"source": ""}, "Il testo non può essere vuoto"),
])
def test_invalid_content_is_refused_with_a_message(seeded_database, desk_login, changes, field_message):
    client = desk_login(Role.OPERATOR)
    entry = entry_of(seeded_database)
    response = post_form(client, f"/knowledge/{TOPIC}", form_of(entry, **changes))
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert entry_of(seeded_database).version == entry.version


def test_a_save_without_the_csrf_token_is_refused(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    entry = entry_of(seeded_database)
    response = client.post(f"/knowledge/{TOPIC}", data=form_of(entry, answer_it="Senza token."))
    assert response.status_code == 400
    assert entry_of(seeded_database).answer_it == entry.answer_it


def test_only_a_supervisor_clears_the_unconfirmed_flag(seeded_database, desk_login):
    topic = "sportello_contatti"
    entry = entry_of(seeded_database, topic)
    assert entry.unconfirmed
    operator = desk_login(Role.OPERATOR)
    response = post_form(operator, f"/knowledge/{topic}", form_of(entry, unconfirmed=None))
    assert response.status_code == 422 and "Solo un supervisore" in response.get_data(as_text=True)
    assert entry_of(seeded_database, topic).unconfirmed
    # An operator may still edit the text of an unconfirmed entry, and may flag an entry.
    assert post_form(operator, f"/knowledge/{topic}", form_of(entry, answer_en="Edited.")).status_code == 302
    fresh = entry_of(seeded_database, "part_time")
    assert post_form(operator, "/knowledge/part_time", form_of(fresh, unconfirmed="on")).status_code == 302
    assert entry_of(seeded_database, "part_time").unconfirmed
    supervisor = desk_login(Role.SUPERVISOR)
    entry = entry_of(seeded_database, topic)
    assert post_form(supervisor, f"/knowledge/{topic}", form_of(entry, unconfirmed=None)).status_code == 302
    assert not entry_of(seeded_database, topic).unconfirmed


def test_a_desk_save_is_in_the_assistants_next_answer(action_database, desk_login):
    client = desk_login(Role.OPERATOR)
    entry = entry_of(action_database)
    new_text = "Testo del part-time aggiornato dal desk, senza riaddestrare il modello."
    assert post_form(client, f"/knowledge/{TOPIC}", form_of(entry, answer_it=new_text,
                                                          source="D.Lgs. 81/2015, verificato dal desk")).status_code == 302
    messages, _ = run(ActionAnswerTopic(), tracker("part time", TOPIC, slots={"language": "it"}))
    assert new_text in messages[0]["text"]
    assert "Fonte: D.Lgs. 81/2015, verificato dal desk" in messages[0]["text"]
    assert messages[0]["custom"]["source"] == "D.Lgs. 81/2015, verificato dal desk"
    assert messages[0]["custom"]["topic"] == TOPIC


def test_an_unknown_topic_is_not_found(desk_login):
    assert desk_login(Role.OPERATOR).get("/knowledge/non_esiste").status_code == 404


def test_two_simultaneous_saves_of_the_same_version_cannot_both_win(seeded_database):
    """On PostgreSQL the second save waits for the first one's row lock, then sees the new
    version and is refused; on SQLite the single writer lock refuses it outright. Either
    way one edit is kept and the other is reported, never silently lost."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as StillWaiting

    from desk.db import DatabaseUnavailable
    from desk.services.knowledge import EditConflict

    base = entry_of(seeded_database).version
    first_saved = threading.Event()
    release_first = threading.Event()

    def first():
        with seeded_database.session() as session:
            knowledge.edit_entry(session, TOPIC, {"answer_en": "First."}, "a@sportello.example", base, today())
            first_saved.set()
            release_first.wait(5)

    def second():
        first_saved.wait(5)
        with seeded_database.session() as session:
            knowledge.edit_entry(session, TOPIC, {"answer_en": "Second."}, "b@sportello.example", base, today())

    postgres = seeded_database.engine.dialect.name == "postgresql"
    with ThreadPoolExecutor(max_workers=2) as pool:
        first_done = pool.submit(first)
        second_done = pool.submit(second)
        first_saved.wait(5)
        if postgres:
            with pytest.raises(StillWaiting):
                second_done.result(timeout=1)  # waiting on the first save's row lock
        release_first.set()
        first_done.result(timeout=10)
        with pytest.raises(EditConflict if postgres else (EditConflict, DatabaseUnavailable)):
            second_done.result(timeout=20)
    current = entry_of(seeded_database)
    assert current.answer_en == "First." and current.version == base + 1


def test_saving_a_text_is_not_a_verification_only_verificato_moves_the_date(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    topic = "congedo_paternita"
    entry = entry_of(seeded_database, topic)
    before = entry.verified_on
    response = post_form(client, f"/knowledge/{topic}", form_of(entry, answer_en=entry.answer_en + " Edited.",
                                                                 verified_on="2026-11-30"))
    assert response.status_code == 302
    assert entry_of(seeded_database, topic).verified_on == before
    response = post_form(client, f"/knowledge/{topic}/verificato", {"note": "riletto INPS"}, follow_redirects=True)
    assert "Fonti segnate come ricontrollate oggi" in response.get_data(as_text=True)
    entry = entry_of(seeded_database, topic)
    assert entry.verified_on == today() and entry.verified_by.endswith("@sportello.example")
    assert all(source["checked_on"] == today().isoformat() and entry.verified_by in source["how"]
               for source in entry.sources)
    latest = knowledge.history(seeded_database.session().__enter__(), topic)[0]
    assert latest.author == entry.verified_by and latest.note.startswith("Verificato") and "riletto INPS" in latest.note


def test_an_operator_moves_a_facts_period_and_the_answer_follows(seeded_database, desk_login):
    client = desk_login(Role.OPERATOR)
    topic = "elba_richiesta"
    entry = entry_of(seeded_database, topic)
    page = client.get(f"/knowledge/{topic}").get_data(as_text=True)
    assert 'name="fact-0-key" value="termine_regole_2025"' in page and "(scaduto)" in page
    fact = knowledge.facts_of(entry)[0]
    form = form_of(entry, facts_count="2", **{f"fact-0-{name}": value for name, value in fact.as_dict().items()
                                              if name != "budget_law" and value is not None})
    form["fact-0-valid_until"] = (today() + timedelta(days=10)).isoformat()
    assert post_form(client, f"/knowledge/{topic}", form).status_code == 302
    with seeded_database.session() as session:
        answer = knowledge.answer_for(session, topic, "it", today())
    assert fact.text_it in answer.text and answer.updating == ()
    listing = client.get("/knowledge/scadenze/").get_data(as_text=True)
    assert f'data-fact="{topic}:termine_regole_2025"' in listing.split('id="in-scadenza"')[1].split("</table>")[0]


def test_the_deadlines_page_lists_ended_and_budget_law_facts(seeded_database, desk_login):
    page = desk_login(Role.OPERATOR).get("/knowledge/scadenze/").get_data(as_text=True)
    ended = page.split('id="scaduti"')[1].split("</table>")[0]
    budget = page.split('id="legge-di-bilancio"')[1].split("</table>")[0]
    with seeded_database.session() as session:
        facts = knowledge.facts_by_topic(session)
    from desk.services import dated_facts
    for row in dated_facts.ended(facts, today()):
        assert f'data-fact="{row.topic}:{row.fact.key}"' in ended
    assert 'data-fact="fringe_benefit_soglie:soglie_2025_2027"' in budget
    assert "elba_richiesta:termine_regole_2025" not in budget


def test_only_a_supervisor_publishes_a_rules_change(seeded_database, desk_login):
    topic = "fringe_benefit_soglie"
    entry = entry_of(seeded_database, topic)
    operator = desk_login(Role.OPERATOR)
    response = post_form(operator, f"/knowledge/{topic}", form_of(entry, answer_en=entry.answer_en + " x",
                                                                   rules_changed="on"))
    assert response.status_code == 422 and "Solo un supervisore" in response.get_data(as_text=True)
