"""Directory of local service points: list and filter by topic, create and edit
(operators), delete (supervisors). The assistant names the active points of a topic
after its answer."""
from __future__ import annotations

from typing import Any, Dict, List

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.models import SERVICE_POINT_KINDS, Role
from desk.services import directory, knowledge
from desk.services.directory import InvalidServicePoint
from desk.web.auth import role_required
from desk.web.extensions import db_session
from desk.web.knowledge import AREAS

blueprint = Blueprint("directory", __name__, url_prefix="/directory")

_TEXT_FIELDS = ("name", "kind", "address", "municipality", "opening_hours", "phone", "email", "website",
                "notes", "source", "source_url", "checked_on", "latitude", "longitude")


@blueprint.get("/")
@role_required(Role.OPERATOR)
def index():
    topic = request.args.get("topic", "")
    kind = request.args.get("kind", "")
    search = request.args.get("q", "")
    with db_session() as session:
        titles = _topic_titles(session)
        points = directory.list_points(session, topic=topic if topic in titles else None,
                                       kind=kind if kind in SERVICE_POINT_KINDS else None, search=search)
        return render_template("directory/index.html", points=points, titles=titles, topic=topic, kind=kind,
                               search=search, kinds=SERVICE_POINT_KINDS,
                               may_delete=current_user.can(Role.SUPERVISOR))


@blueprint.route("/new", methods=["GET", "POST"])
@role_required(Role.OPERATOR)
def create():
    with db_session() as session:
        if request.method == "POST":
            content = _content_from_form()
            try:
                point = directory.create_point(session, content, author=current_user.email)
            except InvalidServicePoint as error:
                return _render_form(session, None, content, error.errors), 422
            flash(f"Sportello «{point.name}» aggiunto.", "success")
            return redirect(url_for("directory.index"))
        preset = request.args.get("topic", "")
        content = {"kind": "other", "active": True, "to_complete": False, "topics": [preset] if preset else []}
        return _render_form(session, None, content, {})


@blueprint.route("/<int:point_id>", methods=["GET", "POST"])
@role_required(Role.OPERATOR)
def edit(point_id: int):
    with db_session() as session:
        point = directory.get(session, point_id)
        if point is None:
            abort(404)
        if request.method == "POST":
            content = _content_from_form()
            try:
                directory.update_point(session, point, content, author=current_user.email)
            except InvalidServicePoint as error:
                return _render_form(session, point, content, error.errors), 422
            flash(f"Sportello «{point.name}» salvato.", "success")
            return redirect(url_for("directory.index"))
        content = {name: getattr(point, name) for name in directory.EDITABLE_FIELDS}
        return _render_form(session, point, content, {})


@blueprint.post("/<int:point_id>/delete")
@role_required(Role.SUPERVISOR)
def delete(point_id: int):
    with db_session() as session:
        point = directory.get(session, point_id)
        if point is None:
            abort(404)
        name = point.name
        directory.delete_point(session, point, author=current_user.email)
    flash(f"Sportello «{name}» eliminato.", "success")
    return redirect(url_for("directory.index"))


def _content_from_form() -> Dict[str, Any]:
    form = request.form
    content: Dict[str, Any] = {name: form.get(name, "") for name in _TEXT_FIELDS}
    content["topics"] = form.getlist("topics")
    content["active"] = form.get("active") == "on"
    content["to_complete"] = form.get("to_complete") == "on"
    content["serves_everywhere"] = form.get("serves_everywhere") == "on"
    content["areas"] = [line.strip() for line in form.get("areas", "").splitlines() if line.strip()]
    return content


def _topic_titles(session) -> Dict[str, str]:
    return {entry.topic: entry.title_it for entry in knowledge.list_entries(session)}


def _topics_by_area(session) -> List[tuple]:
    groups: Dict[str, List[tuple]] = {}
    for entry in knowledge.list_entries(session):
        groups.setdefault(entry.area, []).append((entry.topic, entry.title_it))
    return [(AREAS.get(area, area), groups[area]) for area in AREAS if area in groups] + [
        (area, topics) for area, topics in groups.items() if area not in AREAS]


def _render_form(session, point, content, errors):
    return render_template("directory/form.html", point=point, content=content, errors=errors,
                           kinds=SERVICE_POINT_KINDS, topic_groups=_topics_by_area(session),
                           may_delete=current_user.can(Role.SUPERVISOR),
                           history=directory.versions(session, point) if point is not None else [])
