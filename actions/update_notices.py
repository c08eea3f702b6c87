"""Update notices in the chat: "Avvisami se cambia" under an answer subscribes the user to
that topic; /avvisi lists the subscriptions with a button to cancel each (or all)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import channel_of, language_of
from actions.runtime import in_session
from actions.tickets import reply_address
from desk.db import DatabaseUnavailable
from desk.services import knowledge, update_notices

TEXTS = {
    "subscribed_telegram": {"it": "Fatto: se cambiano le regole di «{title}» te lo scrivo qui, al massimo un avviso al giorno. Per vedere o cancellare i tuoi avvisi scrivi /avvisi.",
                            "en": "Done: if the rules on \"{title}\" change I will write to you here, at most one notice a day. To see or cancel your notices write /avvisi."},
    "subscribed_widget": {"it": "Fatto: se cambiano le regole di «{title}» lo trovi qui alla tua prossima visita, al massimo un avviso al giorno. Per vedere o cancellare i tuoi avvisi scrivi /avvisi.",
                          "en": "Done: if the rules on \"{title}\" change you will find a notice here on your next visit, at most one a day. To see or cancel your notices write /avvisi."},
    "no_topic": {"it": "Fammi prima una domanda su un argomento: sotto la risposta trovi «Avvisami se cambia».",
                 "en": "Ask me about a topic first: under the answer you will find \"Notify me if it changes\"."},
    "list": {"it": "Ricevi un avviso se cambiano le regole di:", "en": "You get a notice if the rules change on:"},
    "none": {"it": "Non hai avvisi attivi. Sotto una risposta puoi premere «Avvisami se cambia».",
             "en": "You have no active notices. Under an answer you can press \"Notify me if it changes\"."},
    "cancel_one": {"it": "Annulla: {title}", "en": "Cancel: {title}"},
    "cancel_all": {"it": "Annulla tutti", "en": "Cancel all"},
    "cancelled": {"it": "Fatto: avvisi annullati ({count}).", "en": "Done: notices cancelled ({count})."},
    "unavailable": {"it": "Non riesco a gestire gli avvisi in questo momento: riprova più tardi.",
                    "en": "I cannot manage notices right now: please try again later."},
    "button_subscribe": {"it": "Avvisami se cambia", "en": "Notify me if it changes"},
}


def say(key: str, language: str, **values: Any) -> str:
    return TEXTS[key].get(language, TEXTS[key]["it"]).format(**values)


def subscribe_button(language: str) -> Dict[str, str]:
    return {"title": say("button_subscribe", language), "payload": "/subscribe_updates"}


def _titles(session, topics: List[str], language: str) -> Dict[str, str]:
    return {entry.topic: entry.title(language) for entry in knowledge.list_entries(session) if entry.topic in topics}


class ActionSubscribeUpdates(Action):
    def name(self) -> Text:
        return "action_subscribe_updates"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        language = language_of(tracker)
        topic = tracker.get_slot("last_topic")
        if not topic:
            dispatcher.utter_message(text=say("no_topic", language))
            return []
        channel, address = channel_of(tracker), reply_address(tracker)

        def subscribe(session) -> str:
            update_notices.subscribe(session, channel, address, topic, language)
            return _titles(session, [topic], language).get(topic, topic)

        try:
            title = await in_session(subscribe)
        except DatabaseUnavailable:
            dispatcher.utter_message(text=say("unavailable", language))
            return []
        key = "subscribed_telegram" if channel == "telegram" else "subscribed_widget"
        dispatcher.utter_message(text=say(key, language, title=title),
                                 json_message={"subscription": {"topic": topic, "status": "active"}})
        return []


class ActionListSubscriptions(Action):
    def name(self) -> Text:
        return "action_list_subscriptions"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        language = language_of(tracker)
        channel, address = channel_of(tracker), reply_address(tracker)

        def listed(session):
            topics = [subscription.topic for subscription in update_notices.active(session, channel, address)]
            return topics, _titles(session, topics, language)

        try:
            topics, titles = await in_session(listed)
        except DatabaseUnavailable:
            dispatcher.utter_message(text=say("unavailable", language))
            return []
        if not topics:
            dispatcher.utter_message(text=say("none", language), json_message={"subscriptions": []})
            return []
        lines = [say("list", language)] + [f"• {titles.get(topic, topic)}" for topic in topics]
        buttons = [{"title": say("cancel_one", language, title=titles.get(topic, topic)),
                    "payload": f'/cancel_updates{{"subscription_topic": "{topic}"}}'} for topic in topics]
        buttons.append({"title": say("cancel_all", language), "payload": "/cancel_updates"})
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons, json_message={"subscriptions": topics})
        return []


class ActionCancelSubscription(Action):
    def name(self) -> Text:
        return "action_cancel_updates"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        language = language_of(tracker)
        channel, address = channel_of(tracker), reply_address(tracker)
        topic: Optional[str] = next(tracker.get_latest_entity_values("subscription_topic"), None)
        try:
            count = await in_session(lambda session: update_notices.cancel(session, channel, address, topic))
        except DatabaseUnavailable:
            dispatcher.utter_message(text=say("unavailable", language))
            return []
        dispatcher.utter_message(text=say("cancelled", language, count=count),
                                 json_message={"subscription": {"topic": topic, "status": "cancelled"}})
        return []
