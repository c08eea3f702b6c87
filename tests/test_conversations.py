"""What every channel sends to the assistant (desk/services/conversations.py)."""
from desk.services.conversations import InboundMessage


def test_the_payload_names_the_channel_the_reply_address_and_the_language():
    payload = InboundMessage("telegram", "4242", "ciao", language_hint="it").payload()
    assert payload == {"sender": "telegram-4242", "message": "ciao",
                       "metadata": {"channel": "telegram", "reply_address": "4242", "language": "it"}}


def test_bot_typed_in_any_channel_is_the_back_to_bot_intent():
    assert InboundMessage("widget", "s1", " /BOT ").payload()["message"] == "/back_to_bot"
    assert InboundMessage("widget", "s1", "/bottega").payload()["message"] == "/bottega"
