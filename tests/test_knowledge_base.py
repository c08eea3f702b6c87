"""The knowledge base: seeded from data/knowledge, edited with versions, never overwritten by seeding."""
import shutil
from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from desk.models import KnowledgeEntry, KnowledgeVersion
from desk.services import knowledge
from desk.services.seeding import SeedError, seed_knowledge
from desk.topics import topic_ids
from tests.conftest import KNOWLEDGE_DIR


def test_seed_creates_one_entry_per_topic_with_a_first_version(seeded_database):
    with seeded_database.session() as session:
        topics = set(session.scalars(select(KnowledgeEntry.topic)))
        versions = session.scalar(select(func.count()).select_from(KnowledgeVersion))
    assert topics == set(topic_ids())
    assert versions == len(topic_ids())


def test_seeding_twice_changes_nothing(seeded_database):
    with seeded_database.session() as session:
        report = seed_knowledge(session, KNOWLEDGE_DIR)
        versions = session.scalar(select(func.count()).select_from(KnowledgeVersion))
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == 42
    assert versions == 42


def test_an_entry_edited_in_the_desk_survives_reseeding(seeded_database):
    with seeded_database.session() as session:
        knowledge.update_entry(session, "part_time", {"answer_it": "Testo rivisto dall'operatore."}, author="op@example.org")
    with seeded_database.session() as session:
        report = seed_knowledge(session, KNOWLEDGE_DIR)
        entry = knowledge.find_entry(session, "part_time")
        assert entry.answer_it == "Testo rivisto dall'operatore."
        assert [v.author for v in entry.versions] == ["seed", "op@example.org"]
    assert report.kept_edited == ["part_time"]


def test_a_changed_seed_file_updates_an_unedited_entry_as_a_new_version(seeded_database, tmp_path):
    seed_dir = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, seed_dir)
    path = seed_dir / "sportello.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["entries"][0]["answer"]["en"] = "A corrected English answer."
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    topic = document["entries"][0]["topic"]
    with seeded_database.session() as session:
        report = seed_knowledge(session, seed_dir)
        entry = knowledge.find_entry(session, topic)
        assert entry.answer_en == "A corrected English answer."
        assert entry.version == 2 and not entry.edited_in_desk
    assert report.updated == [topic]


def test_seeding_refuses_files_that_miss_a_topic(database, tmp_path):
    seed_dir = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, seed_dir)
    (seed_dir / "sportello.yml").unlink()
    with pytest.raises(SeedError, match="missing"):
        with database.session() as session:
            seed_knowledge(session, seed_dir)


def test_revert_restores_an_earlier_version_as_a_new_one(seeded_database):
    with seeded_database.session() as session:
        original = knowledge.find_entry(session, "doposcuola").answer_en
        knowledge.update_entry(session, "doposcuola", {"answer_en": "Changed."}, author="op")
        entry = knowledge.revert_entry(session, "doposcuola", 1, author="supervisor")
        assert entry.answer_en == original
        assert entry.version == 3
        assert entry.versions[-1].note == "reverted to version 1"


def test_answer_for_reads_the_language_and_the_source(seeded_database):
    with seeded_database.session() as session:
        italian = knowledge.answer_for(session, "congedo_paternita", "it")
        english = knowledge.answer_for(session, "congedo_paternita", "en")
    assert italian.text and english.text and italian.text != english.text
    assert italian.source and isinstance(italian.verified_on, date)


def test_only_editable_fields_can_be_changed(seeded_database):
    with pytest.raises(ValueError):
        with seeded_database.session() as session:
            knowledge.update_entry(session, "part_time", {"topic": "other"}, author="op")
