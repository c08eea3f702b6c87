"""Language of short chat messages (lingua), remembered unless clearly changed."""
import pytest

from desk.language import guess_language


@pytest.mark.parametrize("text", [
    "quanti giorni di congedo papà?", "cos'è ELBA", "buongiorno", "welfare aziendale",
    "mia mamma ha l'alzheimer e nn so come fare col lavoro",
])
def test_italian_messages(text):
    assert guess_language(text).language == "it"


@pytest.mark.parametrize("text", [
    "how many days of paternity leave do I get?", "what is ELBA", "can i work from home", "thank you so much",
])
def test_english_messages(text):
    assert guess_language(text).language == "en"


def test_italian_loanwords_do_not_switch_an_italian_conversation_to_english():
    assert guess_language("smart working", current="it").language == "it"
    assert guess_language("ok", current="it").language == "it"
    assert guess_language("fringe benefit 2026", current="it").language == "it"


def test_an_ambiguous_message_keeps_the_conversation_language():
    assert guess_language("ok", current="en").language == "en"
    assert guess_language("FSBA?", current="en").language == "en"


def test_the_channel_hint_decides_an_ambiguous_first_message():
    assert guess_language("ELBA", hint="en").language == "en"


@pytest.mark.parametrize("text,code", [
    ("Wie viele Tage Elternzeit bekomme ich?", "de"),
    ("¿Cuántos días de permiso de paternidad tengo?", "es"),
    ("Combien de jours de congé paternité?", "fr"),
    ("كم يوم إجازة أمومة", "ar"),
])
def test_other_languages_are_recognised(text, code):
    assert guess_language(text).foreign == code


def test_dialect_and_chat_spelling_are_not_taken_for_another_language():
    assert guess_language("el me fiö el va a l'asilo, ghe sun bonus?").foreign is None


@pytest.mark.parametrize("text", ["", "   ", "/affirm", "🙂🙂", "\x00\x01"])
def test_empty_payload_and_symbol_messages_fall_back_to_the_default(text):
    assert guess_language(text).language == "it"
