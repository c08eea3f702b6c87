from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select

from desk.db import DatabaseUnavailable
from desk.models import KnowledgeEntry
from desk.web.extensions import database_of

blueprint = Blueprint("health", __name__)


def database_state() -> dict:
    try:
        with database_of(current_app).session() as session:
            entries = session.scalar(select(func.count()).select_from(KnowledgeEntry))
        return {"state": "ok", "knowledge_entries": entries}
    except DatabaseUnavailable:
        return {"state": "unreachable"}


@blueprint.get("/healthz")
def healthz():
    database = database_state()
    status = "ok" if database["state"] == "ok" else "degraded"
    return jsonify(status=status, database=database), 200 if status == "ok" else 503
