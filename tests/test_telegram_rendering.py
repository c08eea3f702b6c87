"""The assistant's replies as Telegram messages: escaping, splitting at Telegram's
4096 characters, inline keyboards and the map for payloads over 64 bytes."""
from bot.telegram.rendering import (
    LONG_PAYLOAD_PREFIX,
    MAX_MESSAGE_CHARS,
    PayloadMap,
    render_replies,
    split_text,
    to_html,
)
from bot.telegram.texts import language_from, language_hint


def test_user_and_knowledge_base_text_cannot_become_markup():
    assert to_html('<a href="x">clic</a> & <b>') == '&lt;a href="x"&gt;clic&lt;/a&gt; &amp; &lt;b&gt;'
    assert to_html("riferimento DC-7K4M2Q, non XDC-7K4M2Q") == "riferimento <code>DC-7K4M2Q</code>, non XDC-7K4M2Q"


def test_a_short_text_is_one_message():
    assert split_text("  Ciao!  ") == ["Ciao!"]
    assert split_text("") == []


def test_long_texts_split_on_paragraphs_then_lines_then_words():
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]
    lines = "\n".join(f"riga {n:04d} " + "x" * 40 for n in range(200))
    parts = split_text(lines)
    assert all(len(part) <= MAX_MESSAGE_CHARS for part in parts) and len(parts) > 1
    assert "\n".join(parts) == lines  # cut only where a line ended
    words = " ".join(["parola"] * 1500)
    parts = split_text(words)
    assert all(len(part) <= MAX_MESSAGE_CHARS for part in parts)
    assert " ".join(parts) == words
    assert split_text("z" * 9000) == ["z" * 4096, "z" * 4096, "z" * 808]


def test_buttons_go_on_the_last_part_and_custom_objects_are_not_shown():
    payloads = PayloadMap()
    long_text = ("Paragrafo. " * 300 + "\n\n") * 2
    messages = render_replies([
        {"text": long_text, "buttons": [{"title": "Utile", "payload": "/feedback_helpful"}]},
        {"custom": {"topic": "part_time", "source": "D.Lgs. 81/2015", "verified_on": "2026-01-10"}},
        {"text": "", "buttons": []},
    ], payloads)
    assert len(messages) == 2
    assert messages[0].keyboard is None
    assert messages[1].keyboard.inline_keyboard[0][0].callback_data == "/feedback_helpful"
    assert all("2026-01-10" not in message.html for message in messages)


def test_payloads_over_64_bytes_are_mapped_and_found_again():
    payloads = PayloadMap(capacity=2)
    long_payload = "/inform" + '{"text":"' + "è" * 40 + '"}'
    data = payloads.callback_data(long_payload)
    assert data.startswith(LONG_PAYLOAD_PREFIX) and len(data.encode()) <= 64
    assert payloads.payload(data) == long_payload
    assert payloads.callback_data("/affirm") == "/affirm" and payloads.payload("/affirm") == "/affirm"
    payloads.callback_data("/x" + "1" * 70)
    payloads.callback_data("/x" + "2" * 70)
    assert payloads.payload(data) is None  # evicted: the button counts as expired


def test_the_clients_language_decides_the_gateways_own_texts():
    assert (language_from("en-GB"), language_from("it"), language_from("de"), language_from(None)) == ("en", "it", "it", "it")
    assert (language_hint("en-US"), language_hint("it"), language_hint("fr"), language_hint(None)) == ("en", "it", None, None)
