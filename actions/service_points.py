"""Where to go near the user: "dove mi rivolgo a Rho?", "sportello vicino a 20017".
The comune or postal code is read from the message (desk.services.areas); the points come
from the directory, for the topic last answered when there is one."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, latest_text
from actions.runtime import in_session
from desk.answer_format import point_line
from desk.db import DatabaseUnavailable
from desk.services import areas, directory
from desk.services.directory import ServicePointCard

MAX_POINTS = 5

TEXTS = {
    "found": {"it": "Dove rivolgersi a {place}:", "en": "Where to go in {place}:"},
    "found_topic": {"it": "Dove rivolgersi a {place} per questo argomento:",
                    "en": "Where to go in {place} for this topic:"},
    "none": {"it": "Non ho sportelli registrati per {place} su questo argomento: un operatore dello sportello può indicarti a chi rivolgerti.",
             "en": "I have no service point on record for {place} on this topic: a desk operator can tell you where to go."},
    "ask": {"it": "Dimmi il tuo comune o il CAP (Città metropolitana di Milano o provincia di Lodi) e ti indico gli sportelli della tua zona.",
            "en": "Tell me your town or postal code (Milan metropolitan area or province of Lodi) and I will list the service points for your area."},
    "missing": {"it": "Alcuni recapiti sono ancora da completare: l'elenco completo, per comune, è su {url}",
                "en": "Some contact details are still being completed: the full list, by town, is at {url}"},
}


def text(key: str, language: str, **values: str) -> str:
    return TEXTS[key].get(language, TEXTS[key]["it"]).format(**values)


class ActionFindServicePoint(Action):
    def name(self) -> Text:
        return "action_find_service_point"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        language = language_of(tracker)
        comune = areas.find_comune(latest_text(tracker))
        if comune is None:
            dispatcher.utter_message(text=text("ask", language), json_message={"service_points": {"asks": "area"}})
            return []
        topic = tracker.get_slot("last_topic")
        try:
            points = await in_session(lambda session: self._points(session, tracker, comune.name, topic))
        except DatabaseUnavailable:
            dispatcher.utter_message(text=text("none", language, place=comune.name))
            return []
        if not points:
            dispatcher.utter_message(text=text("none", language, place=comune.name),
                                     buttons=[{"title": "Parla con una persona" if language == "it" else "Talk to a person",
                                               "payload": "/request_human"}])
            return []
        heading = text("found_topic" if topic else "found", language, place=comune.name)
        lines = [heading] + ["• " + point_line(point, language) for point in points]
        lines.append(text("missing", language, url=public_page_url(comune.name, topic)))
        dispatcher.utter_message(text="\n".join(lines), json_message={"service_points": {
            "comune": comune.name, "istat": comune.istat, "topic": topic, "count": len(points)}})
        return []

    @staticmethod
    def _points(session, tracker: Tracker, comune_name: str, topic: Optional[str]) -> List[ServicePointCard]:
        points = directory.points_for_area(session, comune_name, topic, limit=MAX_POINTS) if topic else []
        if not points:
            points = directory.points_for_area(session, comune_name, None, limit=MAX_POINTS)
        return [ServicePointCard.of(point) for point in points]


def public_page_url(comune_name: str, topic: Optional[str]) -> str:
    from urllib.parse import urlencode

    from desk.config import Settings

    query = {"dove": comune_name, **({"argomento": topic} if topic else {})}
    return f"{Settings.from_env().public_url.rstrip('/')}/sportelli/?{urlencode(query)}"
