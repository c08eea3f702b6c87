"""Where to go near the user: "dove mi rivolgo a Rho?", "sportello vicino a 20017".
The comune or postal code is read from the message (desk.services.areas); the points come
from the directory, for the topic last answered when there is one."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text

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
        municipi = areas.milan_municipi(latest_text(tracker)) if comune.name == areas.MILANO else ()
        place = municipi_place(comune.name, municipi, language)
        try:
            points = await in_session(lambda session: self._points(session, tracker, comune.name, topic, municipi))
        except DatabaseUnavailable:
            dispatcher.utter_message(text=text("none", language, place=place))
            return []
        if not points:
            dispatcher.utter_message(text=text("none", language, place=place),
                                     buttons=[{"title": "Parla con una persona" if language == "it" else "Talk to a person",
                                               "payload": "/request_human"}])
            return []
        heading = text("found_topic" if topic else "found", language, place=place)
        lines = [heading] + ["• " + point_line(point, language) for point in points]
        lines.append(text("missing", language, url=public_page_url(comune.name, topic)))
        found = {"comune": comune.name, "istat": comune.istat, "topic": topic, "count": len(points)}
        if municipi:
            found["municipi"] = list(municipi)
        dispatcher.utter_message(text="\n".join(lines), json_message={"service_points": found})
        return []

    @staticmethod
    def _points(session, tracker: Tracker, comune_name: str, topic: Optional[str],
                municipi: Sequence[int] = ()) -> List[ServicePointCard]:
        points = directory.points_for_area(session, comune_name, topic, limit=MAX_POINTS, municipi=municipi) if topic else []
        if not points:
            points = directory.points_for_area(session, comune_name, None, limit=MAX_POINTS, municipi=municipi)
        return [ServicePointCard.of(point) for point in points]


def municipi_place(comune_name: str, municipi: Sequence[int], language: str) -> str:
    """"Milano (Municipio 1)", "Milano (Municipi 1 e 2)", or just the comune."""
    if not municipi:
        return comune_name
    numbers = [str(number) for number in municipi]
    joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + (" e " if language == "it" else " and ") + numbers[-1]
    word = ("Municipio" if len(numbers) == 1 else "Municipi") if language == "it" else (
        "Municipio" if len(numbers) == 1 else "Municipi")
    return f"{comune_name} ({word} {joined})"


def public_page_url(comune_name: str, topic: Optional[str]) -> str:
    from urllib.parse import urlencode

    from desk.config import Settings

    query = {"dove": comune_name, **({"argomento": topic} if topic else {})}
    return f"{Settings.from_env().public_url.rstrip('/')}/sportelli/?{urlencode(query)}"
