"""Every entry's source is the page that states its figures, recorded with how it was checked."""
import pytest

from desk.config import PROJECT_ROOT
from desk.services import knowledge_sources
from desk.services.seeding import read_seed_files

SEEDS = read_seed_files(PROJECT_ROOT / "data" / "knowledge")


@pytest.mark.parametrize("url, deep", [
    ("https://www.inps.it", False), ("https://www.inps.it/", False), ("https://elba.lombardia.it", False),
    ("https://elba.lombardia.it/?p=3934", True), ("https://sanarti.it/article/prestazioni-sanarti-unisalute/visite_dipendenti", True),
    ("ftp://example.org/x", False), ("", False),
])
def test_a_deep_link_is_a_page_not_a_site(url, deep):
    assert knowledge_sources.is_deep_link(url) is deep


@pytest.mark.parametrize("seed", SEEDS, ids=[seed["topic"] for seed in SEEDS])
def test_every_entry_links_the_page_that_states_it_and_says_how_it_was_checked(seed):
    content = seed["content"]
    assert knowledge_sources.is_deep_link(content["source_url"]), content["source_url"]
    assert content["source_url"] in [source["url"] for source in content["sources"]]
    assert knowledge_sources.problems(content["sources"]) == []
    for fact in content["facts"]:
        assert not fact["source_url"] or knowledge_sources.is_deep_link(fact["source_url"])


@pytest.mark.parametrize("seed", SEEDS, ids=[seed["topic"] for seed in SEEDS])
def test_the_verified_date_is_a_check_only_when_the_main_source_was_read(seed):
    content = seed["content"]
    main = next(source for source in content["sources"] if source["url"] == content["source_url"])
    if main["how"] == knowledge_sources.READ:
        assert content["verified_on"].isoformat() == main["checked_on"]
    else:
        assert main["checked_on"] is None and "non ancora riletta" in content["verified_by"]


def test_problems_name_home_pages_and_unrecorded_checks():
    found = knowledge_sources.problems([
        {"url": "https://www.inps.it", "states": "x", "how": "letta", "checked_on": "2026-12-01"},
        {"url": "https://example.org/a", "states": "x", "how": "", "checked_on": None},
        {"url": "https://example.org/b", "states": "x", "how": "letta", "checked_on": None},
        {"url": "https://example.org/c", "states": "", "how": "trovata, non letta", "checked_on": None},
    ])
    assert len(found) == 4
