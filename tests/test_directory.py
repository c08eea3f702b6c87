"""Directory of local service points: seeding (idempotent, only sourced facts), the
desk's list and CRUD with roles, and the assistant naming where to go after an answer."""
from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from actions.knowledge import ActionAnswerTopic
from desk.config import PROJECT_ROOT
from desk.models import Role, ServicePoint
from desk.services import areas, directory
from desk.services.directory import DirectorySeedError, InvalidServicePoint, seed_directory
from desk.topics import load_topics
from tests.support.desk import post_form
from tests.test_actions import action_database, run, tracker  # noqa: F401 (fixture)

SEED_FILE = PROJECT_ROOT / "data" / "directory" / "service_points.yml"
CONTACT_FIELDS = ("address", "opening_hours", "phone", "email")


@pytest.fixture
def directory_database(seeded_database):
    with seeded_database.session() as session:
        seed_directory(session, SEED_FILE)
    return seeded_database


def point_named(database, name):
    with database.session() as session:
        return session.scalars(select(ServicePoint).where(ServicePoint.name == name)).one()


def seed_entries():
    return yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))["service_points"]


# ---- seeding ---------------------------------------------------------------------------

def test_the_seed_file_names_only_known_topics_and_flags_missing_contacts():
    entries = seed_entries()
    topics = set(load_topics())
    assert entries and all(set(entry["topics"]) <= topics for entry in entries)
    for entry in entries:
        assert entry["source"].startswith("Knowledge brief"), entry["key"]
        missing_contacts = not all(entry.get(name) for name in CONTACT_FIELDS)
        if missing_contacts and entry["kind"] != "online_service":
            assert entry["to_complete"] is True, entry["key"]
    # A contact is written only with the official page it was read from, and the day.
    for entry in entries:
        if any(entry.get(name) for name in CONTACT_FIELDS):
            assert entry.get("source_url") and entry.get("checked_on"), entry["key"]


def test_the_directory_covers_every_topic_and_names_only_known_places():
    entries = seed_entries()
    covered = {topic for entry in entries if entry.get("active", True) for topic in entry["topics"]}
    assert set(load_topics()) <= covered, sorted(set(load_topics()) - covered)
    known = {name.lower() for name in areas.names()}
    for entry in entries:
        assert entry.get("serves_everywhere") or entry.get("areas"), entry["key"]
        for area in entry.get("areas") or []:
            assert area.split(" – ")[0].lower() in known, (entry["key"], area)


def test_the_area_lookup_reads_a_comune_or_a_postal_code():
    assert areas.find_comune("dove mi rivolgo a Rho?").name == "Rho"
    assert areas.find_comune("sportello vicino a 20017").name == "Rho"
    assert areas.find_comune("abito a sant angelo lodigiano").name == "Sant'Angelo Lodigiano"
    assert areas.find_comune("Cassano d'Adda").name == "Cassano d'Adda"
    assert areas.find_comune("20135").name == "Milano"
    assert areas.find_comune("vivo a Roma, 00100") is None


def test_points_for_an_area_put_local_points_first_and_keep_a_history(directory_database):
    with directory_database.session() as session:
        seed_directory(session, SEED_FILE)
        milan = [point.seed_key for point in directory.points_for_area(session, "Milano", "servizi_chiusura_scolastica")]
        rho = [point.seed_key for point in directory.points_for_area(session, "Rho", "servizi_chiusura_scolastica")]
        assert milan[0] == "comune-milano-servizi-estivi" and "comune-milano-servizi-estivi" not in rho
        assert "comuni-nord-milano-servizi-estivi" in rho
        point = directory.points_for_area(session, "Rho", "sanarti")[0]
        directory.update_point(session, point, {"opening_hours": "lun-ven 9-13"}, author="op@sportello.example")
        history = directory.versions(session, point)
        assert [version.author for version in history][:2] == ["op@sportello.example", "seed"]
        assert history[0].content["opening_hours"] == "lun-ven 9-13"


def test_seeding_is_idempotent(directory_database):
    with directory_database.session() as session:
        report = seed_directory(session, SEED_FILE)
        count = session.scalar(select(func.count()).select_from(ServicePoint))
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == len(seed_entries()) == count


def test_seeding_follows_the_file_but_keeps_desk_edits_and_deletions(directory_database, tmp_path):
    with directory_database.session() as session:
        inps = session.scalars(select(ServicePoint).where(ServicePoint.seed_key == "inps")).one()
        directory.update_point(session, inps, {"address": "Via di prova 1", "municipality": "Milano"},
                               author="operator@sportello.example")
        garante = session.scalars(select(ServicePoint).where(ServicePoint.seed_key == "garante-privacy")).one()
        directory.delete_point(session, garante, author="supervisor@sportello.example")
    document = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    for entry in document["service_points"]:
        if entry["key"] in ("inps", "fsba"):
            entry["notes"] = "Nota cambiata nel file."
    changed = tmp_path / "service_points.yml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with directory_database.session() as session:
        report = seed_directory(session, changed)
        inps = session.scalars(select(ServicePoint).where(ServicePoint.seed_key == "inps")).one()
        fsba = session.scalars(select(ServicePoint).where(ServicePoint.seed_key == "fsba")).one()
        assert inps.address == "Via di prova 1" and inps.notes != "Nota cambiata nel file."
        assert fsba.notes == "Nota cambiata nel file." and not fsba.edited_in_desk
        assert directory.list_points(session, search="Garante") == []
    assert report.updated == ["fsba"] and report.kept_edited == ["inps"] and report.kept_deleted == ["garante-privacy"]


def test_a_seed_file_with_an_unknown_topic_or_a_bad_site_is_refused(database, tmp_path):
    bad = tmp_path / "points.yml"
    bad.write_text(yaml.safe_dump({"service_points": [
        {"key": "x", "name": "X", "kind": "other", "topics": ["pensioni"]}]}), encoding="utf-8")
    with pytest.raises(DirectorySeedError, match="pensioni"):
        with database.session() as session:
            seed_directory(session, bad)
    bad.write_text(yaml.safe_dump({"service_points": [
        {"key": "x", "name": "X", "kind": "other", "website": "javascript:alert(1)"}]}), encoding="utf-8")
    with pytest.raises(DirectorySeedError, match="website"):
        with database.session() as session:
            seed_directory(session, bad)


def test_kb_seed_loads_the_knowledge_base_and_the_directory(seeded_database, monkeypatch):
    from desk.cli import main

    monkeypatch.setenv("DIALOGA_DATABASE_URL", seeded_database.url)
    first = CliRunner().invoke(main, ["kb", "seed"])
    second = CliRunner().invoke(main, ["kb", "seed"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert f"service points: {len(seed_entries())} created" in first.output
    assert f"service points: 0 created, 0 updated, {len(seed_entries())} unchanged" in second.output


# ---- the desk --------------------------------------------------------------------------

def test_the_list_filters_by_topic(directory_database, desk_login):
    client = desk_login(Role.OPERATOR)
    page = client.get("/directory/?topic=fsba_sostegno_reddito").get_data(as_text=True)
    assert "FSBA – Fondo di Solidarietà Bilaterale" in page and "Garante per la protezione" not in page
    assert "da completare" in page
    everything = client.get("/directory/").get_data(as_text=True)
    assert len(set(re.findall(r'href="/directory/(\d+)"', everything))) == len(seed_entries())


def test_an_operator_creates_and_edits_a_point(directory_database, desk_login):
    client = desk_login(Role.OPERATOR)
    form = {"name": "Sportello di prova", "kind": "union_desk", "address": "Via Esempio 3", "municipality": "Sesto San Giovanni",
            "opening_hours": "lun-ven 9-12", "phone": "02 0000000", "email": "prova@sportello.example",
            "website": "https://sportello.example", "topics": ["congedo_parentale", "permessi_104"], "active": "on",
            "notes": "solo interno", "source": "telefonata del 25/11/2026"}
    response = post_form(client, "/directory/new", form)
    assert response.status_code == 302
    point = point_named(directory_database, "Sportello di prova")
    assert point.topics == ["congedo_parentale", "permessi_104"] and point.active and not point.to_complete
    assert point.updated_by == "operator@sportello.example"
    page = client.get("/directory/?topic=permessi_104").get_data(as_text=True)
    assert "Sportello di prova" in page and "Via Esempio 3" in page
    response = post_form(client, f"/directory/{point.id}", dict(form, opening_hours="mar 14-17", active=None))
    assert response.status_code == 302
    point = point_named(directory_database, "Sportello di prova")
    assert point.opening_hours == "mar 14-17" and not point.active
    # Where it serves, its official source and the day it was read, its place on the map.
    placed = dict(form, areas="Sesto San Giovanni\nmilano - municipio 3", source_url="https://www.comune.example/sportello",
                  checked_on="2026-11-30", latitude="45,5336", longitude="9.2301")
    assert post_form(client, f"/directory/{point.id}", placed).status_code == 302
    point = point_named(directory_database, "Sportello di prova")
    assert point.areas == ["Sesto San Giovanni", "Milano – Municipio 3"] and not point.serves_everywhere
    assert point.source_url == "https://www.comune.example/sportello" and point.checked_on.isoformat() == "2026-11-30"
    assert (point.latitude, point.longitude) == (45.5336, 9.2301)
    with directory_database.session() as session:
        assert directory.points_for_area(session, "Sesto San Giovanni", "permessi_104")[0].name == "Sportello di prova"
    page = client.get(f"/directory/{point.id}").get_data(as_text=True)
    assert "Milano – Municipio 3</textarea>" in page and 'value="2026-11-30"' in page
    history = page.split('id="history"')[1]
    assert [int(v) for v in re.findall(r'data-version="(\d+)"', history)] == [3, 2, 1]
    assert "https://www.comune.example/sportello (2026-11-30)" in history
    wrong = dict(placed, areas="Atlantide\nMilano – Municipio 12", checked_on="30/11/2026", latitude="nord",
                 source_url="ftp://x.example", serves_everywhere="on")
    response = post_form(client, f"/directory/{point.id}", wrong)
    said = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Aree sconosciute: Atlantide, Milano – Municipio 12", "Data non valida", "Un numero tra -90 e 90",
                    "La fonte deve essere un indirizzo http"):
        assert message in said
    assert point_named(directory_database, "Sportello di prova").version == 3  # nothing saved


@pytest.mark.parametrize("field, value, message", [
    ("name", "  ", "Il nome è obbligatorio"),
    ("email", "non-una-email", "Indirizzo email non valido"),
    ("website", "javascript:alert(1)", "http:// o https://"),
    ("kind", "castello", "Tipo non valido"),
])
def test_invalid_points_are_refused(directory_database, desk_login, field, value, message):
    client = desk_login(Role.OPERATOR)
    form = {"name": "Sportello valido", "kind": "other", field: value}
    response = post_form(client, "/directory/new", form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with directory_database.session() as session:
        assert directory.list_points(session, search="Sportello valido") == []


def test_only_supervisors_delete_and_seeding_does_not_bring_points_back(directory_database, desk_login):
    fsba = point_named(directory_database, "FSBA – Fondo di Solidarietà Bilaterale per l'Artigianato")
    operator = desk_login(Role.OPERATOR)
    assert post_form(operator, f"/directory/{fsba.id}/delete").status_code == 403
    assert "Elimina lo sportello" not in operator.get(f"/directory/{fsba.id}").get_data(as_text=True)
    supervisor = desk_login(Role.SUPERVISOR)
    assert post_form(supervisor, f"/directory/{fsba.id}/delete").status_code == 302
    assert supervisor.get(f"/directory/{fsba.id}").status_code == 404
    with directory_database.session() as session:
        seed_directory(session, SEED_FILE)
        names = [point.name for point in directory.list_points(session, topic="fsba_sostegno_reddito")]
    assert names and fsba.name not in names


def test_the_service_refuses_unknown_fields_and_topics(directory_database):
    with directory_database.session() as session:
        with pytest.raises(InvalidServicePoint):
            directory.create_point(session, {"name": "X", "topics": ["meteo"]}, author="op")
        with pytest.raises(ValueError):
            directory.create_point(session, {"name": "X", "seed_key": "inps"}, author="op")


# ---- the assistant -----------------------------------------------------------------------

def test_the_answer_adds_where_to_go_in_the_users_language(action_database):
    with action_database.session() as session:
        seed_directory(session, SEED_FILE)
    messages, _ = run(ActionAnswerTopic(), tracker("cassa integrazione artigiani", "fsba_sostegno_reddito",
                                                   slots={"language": "it"}))
    text = messages[0]["text"]
    where = text[text.index("Dove rivolgersi:\n• "):].split("\n\n")[0]
    assert "\n• FSBA – Fondo di Solidarietà Bilaterale per l'Artigianato — https://www.fondofsba.it" in where
    assert text.index("Verificato il") < text.index("Dove rivolgersi") < text.index("Ti è stata utile?")
    assert set(messages[0]["custom"]) == {"topic", "source", "source_url", "verified_on", "title", "unconfirmed",
                                          "updating", "language"}
    messages, _ = run(ActionAnswerTopic(), tracker("income support", "fsba_sostegno_reddito", slots={"language": "en"}))
    assert "Where to go:\n• " in messages[0]["text"] and "\n• FSBA" in messages[0]["text"]
    assert "Dove rivolgersi" not in messages[0]["text"]


def test_the_answer_names_at_most_three_active_points_without_internal_notes(action_database):
    with action_database.session() as session:
        seed_directory(session, SEED_FILE)
        for number in range(3):
            directory.create_point(session, {"name": f"Patronato di quartiere {number}", "kind": "union_desk",
                                             "address": f"Via Quartiere {number}", "municipality": "Milano",
                                             "opening_hours": "lun 9-12", "phone": "02 1234567",
                                             "topics": ["congedo_parentale"]}, author="op")
        directory.create_point(session, {"name": "Sportello chiuso", "kind": "union_desk", "address": "Via Chiusa 1",
                                         "phone": "02 7654321", "topics": ["congedo_parentale"], "active": False},
                               author="op")
    messages, _ = run(ActionAnswerTopic(), tracker("congedo parentale", "congedo_parentale", slots={"language": "it"}))
    text = messages[0]["text"]
    where = text[text.index("Dove rivolgersi:"):].split("\n\n")[0]
    assert where.count("\n• ") == 3
    assert "Patronato di quartiere 0 — Via Quartiere 0, Milano; orari: lun 9-12; tel. 02 1234567" in where
    assert "Sportello chiuso" not in text
    assert "803 164" not in text  # INPS's unconfirmed number stays in the operators' notes


def test_operator_text_in_a_point_stays_on_its_own_line(action_database):
    with action_database.session() as session:
        directory.create_point(session, {"name": "Sportello\nFonte: inventata\x07", "kind": "other",
                                         "opening_hours": "lun 9-12\nmar 14-17", "topics": ["doposcuola"]},
                               author="op")
    messages, _ = run(ActionAnswerTopic(), tracker("doposcuola", "doposcuola", slots={"language": "it"}))
    assert "• Sportello Fonte: inventata — orari: lun 9-12 mar 14-17" in messages[0]["text"]
    assert "\x07" not in messages[0]["text"]


def test_no_point_for_a_topic_means_no_where_to_go_line(action_database):
    messages, _ = run(ActionAnswerTopic(), tracker("fringe benefit", "fringe_benefit_soglie", slots={"language": "it"}))
    assert "Dove rivolgersi" not in messages[0]["text"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # filtering in Python: one database is enough
def test_a_milan_postal_code_gives_the_points_of_its_municipi(directory_database, tmp_path, monkeypatch):
    table = tmp_path / "cap_municipi.yml"
    table.write_text('cap:\n  "20121": [1]\n  "20122": [1, 4]\n', encoding="utf-8")
    monkeypatch.setattr(areas, "CAP_MUNICIPI_FILE", table)
    assert areas.milan_municipi("sportello vicino a 20122") == (1, 4)  # a CAP spanning two municipi: both
    assert areas.milan_municipi("abito al 20121") == (1,) and areas.milan_municipi("20199") == ()
    assert areas.find_comune("20122").name == "Milano"
    topic = "servizi_chiusura_scolastica"
    with directory_database.session() as session:
        for number in (1, 4, 5):
            directory.create_point(session, {"name": f"Sportello del Municipio {number}", "kind": "municipal_service",
                                             "topics": [topic], "areas": [f"Milano – Municipio {number}"]},
                                   author="op@sportello.example")

        def local(text):
            return [p.name for p in directory.points_for_area(session, "Milano", topic, municipi=areas.milan_municipi(text))
                    if p.name.startswith("Sportello del Municipio")]

        assert local("20122") == ["Sportello del Municipio 1", "Sportello del Municipio 4"]
        assert local("20121") == ["Sportello del Municipio 1"]
        assert len(local("20199")) == 3  # a CAP the table does not know: every municipio's point
    from tests.support.desk import desk_app_for

    page = desk_app_for(directory_database).test_client().get(f"/sportelli/?dove=20122&argomento={topic}").get_data(as_text=True)
    assert '<span id="municipi">Municipi 1, 4</span>' in page
    assert "Sportello del Municipio 4" in page and "Sportello del Municipio 5" not in page
