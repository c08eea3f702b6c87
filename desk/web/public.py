"""Pages anyone may read: the privacy notice linked from the chats, generated from the
configuration the software runs with (desk.services.privacy.notice), and the map of local
service points ("Dove rivolgersi") searched by comune or postal code."""
from flask import Blueprint, current_app, render_template, request

from desk.models import SERVICE_POINT_KINDS
from desk.services import areas, directory, knowledge
from desk.services.privacy.notice import notice_from
from desk.topics import load_topics
from desk.web.extensions import db_session, settings_of

blueprint = Blueprint("public", __name__)

# The page runs no script and loads nothing from elsewhere: it works without JavaScript
# and without any map tile server.
PUBLIC_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; " \
             "frame-ancestors 'self'"


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
        points = (directory.points_for_area(session, comune.name, topic or None) if comune
                  else directory.list_points(session, topic=topic or None, include_inactive=False))
        cards = [(point, directory.missing_contacts(point)) for point in points]
        titles = {entry.topic: entry.title_it for entry in knowledge.list_entries(session)}
        page = render_template(
            "public/service_points.html", query=query, comune=comune, cards=cards, topic=topic,
            topics=titles, kinds=SERVICE_POINT_KINDS, not_found=bool(query and comune is None),
        )
    return page, 200, {"Content-Security-Policy": PUBLIC_CSP}
