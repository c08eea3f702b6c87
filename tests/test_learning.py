"""The learning loop on both databases: unanswered messages grouped by similarity, labelled
into a training file after a diff, turned into knowledge-base drafts, or set aside."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import select

from desk.models import AnswerFeedback, AssistantTurn, KnowledgeDraft, LearningDecision, Role
from desk.models.base import utcnow
from desk.services import learning
from desk.services.periods import Period
from tests.support.desk import desk_app_for, log_in, make_user, post_form

PENSION = [
    "Come funziona la pensione anticipata?",
    "quando posso andare in pensione anticipata",
    "pensione anticipata come funziona??",
    "Come funziona la pensione antcipata",
]
WEATHER = ["Che tempo fa domani a Milano?", "che tempo fa a milano domani"]
DISMISSAL = ["Mi hanno licenziato senza preavviso, cosa posso fare?", "mi hanno licenziata senza preavviso cosa faccio"]
SEVERANCE = ["come funziona il tfr", "Come si calcola il TFR?"]
# The same question frame ("come funziona la ...") about different things stays apart.
OTHERS = ["How do I pay taxes on a second job?", "Quanto costa il parcheggio in via Roma?", "come funziona la naspi",
          "come funziona la cassa integrazione"]


def add_turns(database, texts, outcome="unanswered", language="it", intent="nlu_fallback", at=None, conversation="c"):
    at = at or utcnow() - timedelta(hours=1)
    with database.session() as session:
        for index, text in enumerate(texts):
            session.add(AssistantTurn(conversation_id=f"{conversation}{index}", outcome=outcome, text=text, language=language,
                                      channel="telegram", intent=intent, created_at=at + timedelta(seconds=index)))


def last_days(days=30) -> Period:
    today = utcnow().date()
    return Period(first_day=today - timedelta(days=days), last_day=today + timedelta(days=1))


def groups_of(database):
    with database.session() as session:
        return [sorted(message.text for message in group.messages)
                for group in learning.unanswered_groups(session, last_days())]


def test_normalising_ignores_case_accents_and_punctuation():
    assert learning.normalise("  Perché   NON posso?! ") == "perche non posso"
    assert learning.text_key("Perché non posso?") == learning.text_key("perche non posso")


def test_near_duplicates_are_grouped_apart_from_other_questions(database):
    add_turns(database, PENSION + WEATHER + DISMISSAL + SEVERANCE + OTHERS)
    groups = groups_of(database)
    assert groups[0] == sorted(PENSION)
    assert sorted(WEATHER) in groups and sorted(DISMISSAL) in groups and sorted(SEVERANCE) in groups
    for text in OTHERS:
        assert [text] in groups
    assert len(groups) == 4 + len(OTHERS)
    assert groups == groups_of(database)  # deterministic


def test_repeated_messages_count_once_per_sending_and_steering_turns_are_left_out(database):
    add_turns(database, ["Come funziona la pensione anticipata?"] * 3)
    add_turns(database, ["sì", "voglio parlare con una persona"], outcome="escalated", intent="affirm", conversation="e")
    add_turns(database, ["/affirm"], outcome="escalated", intent=None, conversation="p")
    add_turns(database, ["paternità"], outcome="answered", intent="congedo_paternita", conversation="a")
    with database.session() as session:
        groups = learning.unanswered_groups(session, last_days())
    assert [(group.count, [message.text for message in group.messages]) for group in groups] == [
        (3, ["Come funziona la pensione anticipata?"])]


def test_messages_outside_the_period_or_language_are_not_offered(database):
    add_turns(database, ["come funziona la pensione anticipata"], at=utcnow() - timedelta(days=60))
    add_turns(database, ["how do I retire early"], language="en", conversation="en")
    with database.session() as session:
        assert learning.unanswered_groups(session, Period(last_days().first_day, last_days().last_day, language="it")) == []
        assert len(learning.unanswered_groups(session, last_days())) == 1


@pytest.fixture
def nlu_dir(tmp_path):
    """A training-data folder with one existing example, as data/nlu is laid out."""
    folder = tmp_path / "nlu"
    (folder / "it").mkdir(parents=True)
    (folder / "it" / "congedi.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: congedo_paternita\n  examples: |\n    - congedo papà quanti giorni\n',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def desk(seeded_database, nlu_dir):
    app = desk_app_for(seeded_database, learned_nlu_dir=nlu_dir)

    def login(role=Role.OPERATOR):
        client = app.test_client()
        assert log_in(client, make_user(seeded_database, role)).status_code == 302
        return client

    return login


def form_of_group(html: str, title: str) -> dict:
    """The fields of the group's form as the browser would post them (all examples ticked)."""
    start = html.index(f"«{title}»")
    form = html[start:html.index("</form>", start)]
    return {
        "group": re.findall(r'name="group" value="(\d+)"', form),
        "example": re.findall(r'name="example" value="(\d+)"', form),
    }


def confirm_fields(html: str) -> dict:
    form = html[html.index('action="/learning/label"'):]
    form = form[:form.index("</form>")]
    fields = {}
    for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    fields["topic"] = fields["topic"][0]
    return fields


def test_labelling_shows_the_diff_then_writes_valid_training_data(desk, seeded_database, nlu_dir):
    add_turns(seeded_database, [PENSION[0], PENSION[2], "congedo papà quanti giorni"])
    add_turns(seeded_database, ["how does early retirement work"], language="en", conversation="en")
    client = desk()
    page = client.get("/learning/").get_data(as_text=True)
    group = form_of_group(page, "pensione anticipata come funziona??")
    assert len(group["group"]) == 2
    # The messages become examples of an existing topic (for the test: paternity leave).
    preview = post_form(client, "/learning/label/preview", {**group, "topic": "congedo_paternita"}, page="/learning/")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "+++ b/it/learned.yml" in html and "+    - pensione anticipata come funziona??" in html
    assert "+- intent: congedo_paternita" in html
    assert not (nlu_dir / "it" / "learned.yml").exists()  # nothing written before the confirmation

    confirmed = post_form(client, "/learning/label", confirm_fields(html), page="/learning/")
    assert confirmed.status_code == 302
    learned = yaml.safe_load((nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8"))
    assert learned["version"] == "3.1"
    assert learned["nlu"] == [{"intent": "congedo_paternita", "examples": (
        "- Come funziona la pensione anticipata?\n- pensione anticipata come funziona??\n")}]
    assert not (nlu_dir / "en" / "learned.yml").exists()
    with seeded_database.session() as session:
        decisions = session.scalars(select(LearningDecision)).all()
        assert {(decision.decision, decision.topic) for decision in decisions} == {("labelled", "congedo_paternita")}
        assert len(decisions) == 2  # one per distinct text
    page = client.get("/learning/").get_data(as_text=True)
    assert "«pensione anticipata come funziona??»" not in page and "«congedo papà quanti giorni»" in page
    assert "«how does early retirement work»" in page


def test_rasa_reads_the_learned_file(seeded_database, nlu_dir):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    add_turns(seeded_database, ['Ciao: "pensione" [anticipata](x) # quando?', "pensione\nanticipata - quando"])
    with seeded_database.session() as session:
        ids = [turn.id for turn in session.scalars(select(AssistantTurn))]
        learning.apply_labelling(session, nlu_dir, "part_time", ids, ids,
                                 learning.plan_labelling(session, nlu_dir, "part_time", ids, ids).digests, "op")
    data = RasaYAMLReader().reads((nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8"))
    assert sorted((example.get("text"), example.get("intent")) for example in data.training_examples) == [
        ('Ciao: "pensione" (anticipata)(x) # quando?', "part_time"), ("pensione anticipata - quando", "part_time")]
    assert all(not example.get("entities") for example in data.training_examples)


def test_labelling_is_idempotent_and_skips_examples_already_known(seeded_database, nlu_dir):
    add_turns(seeded_database, ["come funziona la pensione anticipata", "Congedo papà quanti giorni"])
    with seeded_database.session() as session:
        ids = [turn.id for turn in session.scalars(select(AssistantTurn))]
        plan = learning.plan_labelling(session, nlu_dir, "part_time", ids, ids)
        assert plan.skipped == ["Congedo papà quanti giorni"]  # already an example of another intent
        learning.apply_labelling(session, nlu_dir, "part_time", ids, ids, plan.digests, "op")
    first = (nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8")
    add_turns(seeded_database, ["Come funziona la pensione anticipata"], conversation="again")
    with seeded_database.session() as session:
        ids = [turn.id for turn in session.scalars(select(AssistantTurn))]
        again = learning.plan_labelling(session, nlu_dir, "part_time", ids, ids)
        assert again.changes == [] and "Come funziona la pensione anticipata" in again.skipped
        learning.apply_labelling(session, nlu_dir, "part_time", ids, ids, again.digests, "op")
    assert (nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8") == first
    assert learning.read_learned(nlu_dir / "it" / "learned.yml") == {"part_time": ["come funziona la pensione anticipata"]}


def test_a_file_changed_after_the_diff_is_shown_again(desk, seeded_database, nlu_dir):
    add_turns(seeded_database, ["come funziona la pensione anticipata"])
    client = desk()
    group = form_of_group(client.get("/learning/").get_data(as_text=True), "come funziona la pensione anticipata")
    html = post_form(client, "/learning/label/preview", {**group, "topic": "part_time"}, page="/learning/").get_data(as_text=True)
    learning.ensure_learned_files(nlu_dir)  # someone else writes the file meanwhile
    before = (nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8")
    response = post_form(client, "/learning/label", confirm_fields(html), page="/learning/")
    assert response.status_code == 409
    assert "Il file è cambiato" in response.get_data(as_text=True)
    assert (nlu_dir / "it" / "learned.yml").read_text(encoding="utf-8") == before
    with seeded_database.session() as session:
        assert session.scalars(select(LearningDecision)).all() == []


def test_unknown_topics_and_empty_choices_are_refused(desk, seeded_database, nlu_dir):
    add_turns(seeded_database, ["come funziona la pensione anticipata"])
    client = desk()
    group = form_of_group(client.get("/learning/").get_data(as_text=True), "come funziona la pensione anticipata")
    assert post_form(client, "/learning/label/preview", {**group, "topic": "pensioni"}, page="/learning/").status_code == 400
    response = post_form(client, "/learning/label/preview", {"group": group["group"], "topic": "part_time"},
                         page="/learning/", follow_redirects=True)
    assert "Scegli almeno un esempio" in response.get_data(as_text=True)
    assert not (nlu_dir / "it" / "learned.yml").exists()


def test_an_empty_learned_file_is_valid_training_data(tmp_path):
    learning.ensure_learned_files(tmp_path)
    for language in ("it", "en"):
        document = yaml.safe_load((tmp_path / language / "learned.yml").read_text(encoding="utf-8"))
        assert document == {"version": "3.1", "nlu": []}


def test_a_group_becomes_a_knowledge_base_draft(desk, seeded_database):
    add_turns(seeded_database, WEATHER)
    client = desk()
    group = form_of_group(client.get("/learning/").get_data(as_text=True), "che tempo fa a milano domani")
    response = post_form(client, "/learning/draft", {**group, "title": "Meteo a Milano"}, page="/learning/",
                         follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Bozza «Meteo a Milano» creata" in html
    assert "«che tempo fa a milano domani»" not in html
    with seeded_database.session() as session:
        draft = session.scalars(select(KnowledgeDraft)).one()
        assert (draft.title, draft.status, draft.language, draft.created_by) == (
            "Meteo a Milano", "draft", "it", "operator@sportello.example")
        assert sorted(draft.question_examples) == sorted(WEATHER)
        assert {decision.draft_id for decision in session.scalars(select(LearningDecision))} == {draft.id}
        draft_id = draft.id
    response = post_form(client, f"/learning/drafts/{draft_id}/status", {"status": "done"}, page="/learning/",
                         follow_redirects=True)
    assert "Nessuna bozza aperta" in response.get_data(as_text=True)


@pytest.mark.parametrize("decision", ["handled", "ignored"])
def test_handled_and_ignored_groups_leave_the_list_for_good(desk, seeded_database, decision):
    add_turns(seeded_database, DISMISSAL + ["asdfgh"])
    client = desk()
    group = form_of_group(client.get("/learning/").get_data(as_text=True), "mi hanno licenziata senza preavviso cosa faccio")
    response = post_form(client, "/learning/dismiss", {**group, "decision": decision}, page="/learning/")
    assert response.status_code == 302
    add_turns(seeded_database, ["Mi hanno licenziato senza preavviso, cosa posso fare"], conversation="later")
    assert groups_of(seeded_database) == [["asdfgh"]]
    assert post_form(client, "/learning/dismiss", {**group, "decision": "labelled"}, page="/learning/").status_code == 400


def test_the_page_shows_feedback_per_topic_to_operators(desk, seeded_database):
    with seeded_database.session() as session:
        for helpful in (True, True, False):
            session.add(AnswerFeedback(conversation_id="f", topic="part_time", helpful=helpful, created_at=utcnow()))
    html = desk().get("/learning/").get_data(as_text=True)
    assert "Voti degli utenti per argomento" in html
    row = re.search(r"<td>part_time</td>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', row) == ["2", "1", "3", "66,7%"]
    assert "/reports/satisfaction.csv" not in html  # the export is for supervisors
