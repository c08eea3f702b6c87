from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select

from desk.db import DatabaseUnavailable
from desk.models import KnowledgeEntry
from desk.web.extensions import database_of, settings_of

blueprint = Blueprint("health", __name__)


def database_state() -> dict:
    try:
        with database_of(current_app).session() as session:
            entries = session.scalar(select(func.count()).select_from(KnowledgeEntry))
        return {"state": "ok", "knowledge_entries": entries}
    except DatabaseUnavailable:
        return {"state": "unreachable"}


def redis_state(url: str) -> dict:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        client.ping()
        return {"state": "ok"}
    except redis.RedisError:
        return {"state": "unreachable"}
    finally:
        client.close()


@blueprint.get("/healthz")
def healthz():
    """The desk's dependencies: the database (without it the desk cannot work: 503) and, when
    configured, Redis (rate limits fall back to each process's memory: "degraded" but 200)."""
    database = database_state()
    checks = {"database": database}
    redis_url = settings_of(current_app).redis_url
    if redis_url:
        checks["redis"] = redis_state(redis_url)
    if database["state"] != "ok":
        return jsonify(status="degraded", **checks), 503
    status = "ok" if all(check["state"] == "ok" for check in checks.values()) else "degraded"
    return jsonify(status=status, **checks), 200
