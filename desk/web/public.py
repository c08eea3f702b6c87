"""Pages anyone may read: the privacy notice linked from the chats, generated from the
configuration the software runs with (desk.services.privacy.notice), and the map of local
service points ("Dove rivolgersi") searched by comune or postal code, and the page an update
notice e-mail's unsubscribe link opens."""
from typing import Optional
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request

from desk.models import SERVICE_POINT_KINDS
from desk.services import areas, directory, knowledge, update_notices
from desk.services.privacy.notice import notice_from
from desk.topics import load_topics
from desk.web.extensions import csrf, db_session, settings_of

blueprint = Blueprint("public", __name__)

# The page runs no script and loads nothing from elsewhere: it works without JavaScript
# and without any map tile server. With DIALOGA_MAP_TILES_URL set, it also shows a map
# (Leaflet, served by the desk, started by a script file of its own: no inline script) whose
# tiles come from that one host and nowhere else.
PUBLIC_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; " \
             "frame-ancestors 'self'"


def tile_origin(tiles_url: str) -> Optional[str]:
    """The scheme and host of a tile URL template ({z}/{x}/{y}), or None when it is not one."""
    parts = urlsplit(tiles_url or "")
    if parts.scheme not in ("https", "http") or not parts.netloc or not all(
            mark in tiles_url for mark in ("{z}", "{x}", "{y}")):
        return None
    if any(char in parts.netloc for char in " ;'\"*"):
        return None
    return f"{parts.scheme}://{parts.netloc}"


def map_csp(origin: str) -> str:
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' {origin}; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'self'")


@blueprint.get("/privacy")
def privacy():
    return render_template("public/privacy.html", notice=notice_from(settings_of(current_app).privacy))


@blueprint.get("/sportelli/")
def service_points():
    """Where to go, for the user's comune (name or CAP) and optionally one topic."""
    query = request.args.get("dove", "").strip()[:100]
    topic = request.args.get("argomento", "")
    topics = load_topics()
    topic = topic if topic in topics else ""
    comune = areas.find_comune(query) if query else None
    with db_session() as session:
        municipi = areas.milan_municipi(query) if comune and comune.name == areas.MILANO else ()
        points = (directory.points_for_area(session, comune.name, topic or None, municipi=municipi) if comune
                  else directory.list_points(session, topic=topic or None, include_inactive=False))
        cards = [(point, directory.missing_contacts(point)) for point in points]
        titles = {entry.topic: entry.title_it for entry in knowledge.list_entries(session)}
        settings = settings_of(current_app)
        origin = tile_origin(settings.map_tiles_url)
        placed = [point for point, _ in cards if point.latitude is not None and point.longitude is not None]
        tiles = settings.map_tiles_url if origin and placed else ""
        page = render_template(
            "public/service_points.html", query=query, comune=comune, cards=cards, topic=topic,
            topics=titles, kinds=SERVICE_POINT_KINDS, not_found=bool(query and comune is None),
            tiles=tiles, attribution=settings.map_attribution, municipi=municipi,
        )
    return page, 200, {"Content-Security-Policy": map_csp(origin) if tiles else PUBLIC_CSP}


UNSUBSCRIBE_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


@blueprint.route("/avvisi/annulla/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail clients post here for one-click unsubscribe (RFC 8058)
def unsubscribe(token: str):
    """GET asks to confirm (mail scanners open links: a GET never cancels); POST cancels the
    subscription and forgets the e-mail address."""
    links = update_notices.UnsubscribeLinks(settings_of(current_app).secret_key)
    with db_session() as session:
        subscription = links.subscription_for(session, token[:1000])
        if subscription is None:
            page = render_template("public/unsubscribe.html", state="invalid", language="it", title="")
            return page, 404, {"Content-Security-Policy": UNSUBSCRIBE_CSP}
        language = subscription.language if subscription.language in ("it", "en") else "it"
        entry = knowledge.find_entry(session, subscription.topic)
        title = entry.title(language) if entry is not None else subscription.topic
        state = "confirm"
        if request.method == "POST":
            update_notices.cancel_subscription(subscription)
            state = "done"
        page = render_template("public/unsubscribe.html", state=state, language=language, title=title, token=token)
    return page, 200, {"Content-Security-Policy": UNSUBSCRIBE_CSP, "Cache-Control": "no-store",
                       "Referrer-Policy": "no-referrer"}
