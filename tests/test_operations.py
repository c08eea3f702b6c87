"""Production plumbing without the assistant: nginx's configuration (checked by nginx itself),
metrics, request ids and JSON logs, the desk's health with Redis, the lock store that degrades
without Redis, the apology when the action servers are down, the repeated rating rule."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
from datetime import timedelta

import httpx
import pytest
from werkzeug.wrappers import Response

from actions.feedback import is_repeated_rating
from actions.request_id import request_id_of
from desk.models import AnswerFeedback, AssistantTurn, OutboundMessage
from desk.models.base import utcnow
from desk.ops import metrics
from desk.ops.nginx import TEMPLATE, ProxyLayout, render, render_file
from desk.ops.request_context import JsonFormatter, RequestIdFilter, set_request_id, reset_request_id, valid_request_id
from desk.services import tickets as ticket_service
from desk.services.business_hours import BusinessCalendar
from desk.services.conversations import AssistantClient, AssistantUnavailable, InboundMessage
from desk.web import create_app
from tests.support.desk import desk_settings
from tests.support.redis_server import ThrowawayRedis
from tests.support.stack import free_port
from tests.support.web_server import RecordingAssistant, serving
from tests.test_tickets import intake  # the ticket tests' intake builder

LAYOUT = ProxyLayout(public_port=8080, assistant_port=5004, actions_proxy_port=5054, desk_port=8000,
                     rasa_ports=(5005, 5006), actions_ports=(5055, 5056))


# nginx


def test_the_rendered_configuration_balances_both_instances_and_exposes_only_the_desk(tmp_path):
    config = render(TEMPLATE.read_text(), LAYOUT, tmp_path)
    assert "{{" not in config
    assistant_block = config.split("upstream dialoga_assistant {")[1].split("}")[0]
    assert "127.0.0.1:5005 max_fails=1" in assistant_block and "127.0.0.1:5006 max_fails=1" in assistant_block
    public = config.split("listen 127.0.0.1:8080;")[1].split("\n    }\n")[0]
    assert "proxy_pass http://dialoga_desk;" in public and "dialoga_assistant" not in public
    assert "location = /metrics { return 404; }" in public
    assert config.count("proxy_next_upstream error timeout http_502 http_503 non_idempotent;") == 2
    assert "listen 127.0.0.1:5004;" in config and "listen 127.0.0.1:5054;" in config


def test_ports_come_from_the_environment_and_bad_lists_are_refused():
    layout = ProxyLayout.from_env({"DIALOGA_RASA_PORTS": "7001,7002 7003", "DIALOGA_HTTP_PORT": "9090"})
    assert layout.rasa_ports == (7001, 7002, 7003) and layout.public_port == 9090
    with pytest.raises(ValueError):
        ProxyLayout.from_env({"DIALOGA_RASA_PORTS": "70000"})


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is installed by `make nginx`")
def test_nginx_accepts_the_rendered_configuration(tmp_path):
    written = render_file(LAYOUT, tmp_path / "nginx")
    result = subprocess.run(["nginx", "-t", "-q", "-c", str(written), "-p", str(tmp_path / "nginx")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# Metrics


def test_the_text_format_escapes_labels_and_writes_numbers():
    metric = metrics.Metric("dialoga_x_total", "counter", "Things.").add(3, topic='a"b\\c').add(1.5)
    assert metrics.exposition([metric]) == (
        '# HELP dialoga_x_total Things.\n# TYPE dialoga_x_total counter\n'
        'dialoga_x_total{topic="a\\"b\\\\c"} 3\ndialoga_x_total 1.5\n'
    )


def test_metrics_count_what_the_database_holds(database):
    now = utcnow()
    with database.session() as session:
        late = ticket_service.open_ticket(session, intake(key="late", conversation="c-late"), BusinessCalendar(),
                                          now - timedelta(days=10))
        ticket_service.open_ticket(session, intake(key="fresh", conversation="c-fresh"), BusinessCalendar(), now)
        session.add_all([AssistantTurn(conversation_id="c1", outcome="unanswered", text="x"),
                         AssistantTurn(conversation_id="c1", outcome="escalated", text="y"),
                         AnswerFeedback(conversation_id="c1", topic="congedo_paternita", helpful=True)])
        session.add(OutboundMessage(ticket_id=late.id, channel="telegram", address="1", body="b", status="failed"))
        session.add(OutboundMessage(ticket_id=late.id, channel="telegram", address="1", body="c", status="unconfirmed"))
    with database.session() as session:
        text = metrics.exposition(metrics.collect(session, now, ["congedo_paternita", "smart_working"],
                                                  {"congedo_paternita": 4, "nlu_fallback": 2}))
    assert "dialoga_messages_total 6\n" in text
    assert 'dialoga_answers_total{topic="congedo_paternita"} 4\n' in text
    assert 'dialoga_answers_total{topic="smart_working"} 0\n' in text
    assert 'dialoga_assistant_turns_total{outcome="escalated"} 1\n' in text
    assert "dialoga_tickets_open 2\n" in text
    assert "dialoga_tickets_overdue 1\n" in text
    assert 'dialoga_delivery_failures_total{channel="telegram"} 1\n' in text
    assert 'dialoga_delivery_unconfirmed_total{channel="telegram"} 1\n' in text
    assert 'dialoga_answer_feedback_total{helpful="true"} 1\n' in text


def test_metrics_need_the_token_or_a_direct_loopback_request(seeded_database):
    open_app = create_app(desk_settings(seeded_database.url), database=seeded_database)
    assert open_app.test_client().get("/metrics").status_code == 200
    proxied = open_app.test_client().get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 404
    guarded = create_app(desk_settings(seeded_database.url, metrics_token="s3cret-metrics"),
                         database=seeded_database).test_client()
    assert guarded.get("/metrics").status_code == 404
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert response.status_code == 200 and "dialoga_tickets_open 0" in response.get_data(as_text=True)


# Request ids and logs


def test_a_valid_request_id_is_kept_and_echoed_an_invalid_one_replaced(seeded_database):
    client = create_app(desk_settings(seeded_database.url), database=seeded_database).test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123-def"}).headers["X-Request-ID"] == "abc-123-def"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id; <script>"}).headers["X-Request-ID"]
    assert replaced != "bad id; <script>" and valid_request_id(replaced)


def test_the_request_id_goes_to_the_assistant_in_metadata_and_header():
    recorder = RecordingAssistant(lambda payload: [{"text": "ok"}])
    seen_headers = []

    def app(environ, start_response):
        seen_headers.append(environ.get("HTTP_X_REQUEST_ID"))
        return recorder(environ, start_response)

    with serving(app) as url:
        token = set_request_id("req-0000001")
        try:
            AssistantClient(url).route(InboundMessage("widget", "s1", "ciao", "it"))
        finally:
            reset_request_id(token)
    assert recorder.received[0]["metadata"]["request_id"] == "req-0000001"
    assert seen_headers == ["req-0000001"]
    assert request_id_of({"tracker": {"latest_message": {"metadata": {"request_id": "req-0000001"}}}}) == "req-0000001"
    assert request_id_of({"tracker": {"latest_message": {"metadata": {"request_id": "<script>"}}}}) is None


def test_json_logs_carry_the_request_id_and_no_exception_text():
    record = logging.LogRecord("dialoga.test", logging.ERROR, __file__, 1, "ticket %s failed", ("T-1",), None)
    try:
        raise ValueError("Anna Verdi, anna@example.org")
    except ValueError:
        import sys
        record.exc_info = sys.exc_info()
    token = set_request_id("req-0000002")
    try:
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        reset_request_id(token)
    entry = json.loads(line)
    assert entry["request_id"] == "req-0000002" and entry["message"] == "ticket T-1 failed"
    assert entry["exception"] == "ValueError" and "anna@example.org" not in line


# The action servers down: an empty answer becomes the apology


def _actions_health(status):
    def app(environ, start_response):
        return Response("{}", status=status)(environ, start_response)
    return app


@pytest.mark.parametrize("actions_status, apologises", [(200, False), (502, True)])
def test_an_empty_answer_is_an_outage_only_when_the_action_servers_are_down(actions_status, apologises):
    recorder = RecordingAssistant(lambda payload: [])
    with serving(recorder) as rasa_url, serving(_actions_health(actions_status)) as actions_url:
        client = AssistantClient(rasa_url, actions_url=actions_url)
        if apologises:
            with pytest.raises(AssistantUnavailable):
                client.route(InboundMessage("widget", "s1", "ciao", "it"))
        else:
            assert client.route(InboundMessage("widget", "s1", "ciao", "it")) == []
    assert AssistantClient(f"http://127.0.0.1:{free_port()}", actions_url=None)  # optional, as in `make run`


def test_unreachable_action_servers_count_as_down():
    recorder = RecordingAssistant(lambda payload: [])
    with serving(recorder) as rasa_url:
        with pytest.raises(AssistantUnavailable):
            AssistantClient(rasa_url, actions_url=f"http://127.0.0.1:{free_port()}").route(
                InboundMessage("telegram", "42", "ciao", "it"))


# Redis: the desk's health, the assistants' lock store


@pytest.fixture
def redis_server():
    server = ThrowawayRedis().start()
    yield server
    server.destroy()


def test_health_names_redis_and_degrades_without_it(seeded_database, redis_server):
    app = create_app(desk_settings(seeded_database.url, redis_url=redis_server.url), database=seeded_database)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["redis"] == {"state": "ok"}
    redis_server.stop()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded" and response.json["redis"] == {"state": "unreachable"}


def test_the_lock_store_uses_redis_and_falls_back_to_memory_while_it_is_down(redis_server, caplog):
    from rasa.utils.endpoints import EndpointConfig

    from policies.lock_store import DegradableRedisLockStore

    config = EndpointConfig(url="127.0.0.1", type="policies.lock_store.DegradableRedisLockStore",
                            port=str(redis_server.port), db="0", key_prefix="locktest")
    store = DegradableRedisLockStore(endpoint_config=config)
    ticket = store.issue_ticket("conv-1")
    assert store._redis.get_lock("conv-1").last_issued == ticket and not store.degraded

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="policies.lock_store"):
        first = store.issue_ticket("conv-2")
        assert store.issue_ticket("conv-2") == first + 1  # the memory lock store's tickets
    assert store.degraded and "lock store degraded: Redis unreachable" in caplog.text

    redis_server.start()
    with caplog.at_level(logging.WARNING, logger="policies.lock_store"):
        store.issue_ticket("conv-3")
    assert not store.degraded and "lock store restored" in caplog.text


# Ratings


def _user(intent):
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


ANSWER = {"event": "bot", "data": {"custom": {"topic": "congedo_paternita"}}}


@pytest.mark.parametrize("events, repeated", [
    ([_user("congedo_paternita"), ANSWER, _user("feedback_helpful")], False),
    ([_user("congedo_paternita"), ANSWER, _user("feedback_helpful"), _user("feedback_helpful")], True),
    ([_user("congedo_paternita"), ANSWER, _user("feedback_helpful"), ANSWER, _user("feedback_not_helpful")], False),
    ([_user("congedo_paternita"), ANSWER, _user("feedback_not_helpful"),
      {"event": "bot", "data": {"custom": {"escalation": "offer"}}}, _user("feedback_not_helpful")], True),
])
def test_a_rating_repeated_before_a_new_answer_is_recognised(events, repeated):
    assert is_repeated_rating(events) is repeated


# The tracker store waits for PostgreSQL


def _operational_error():
    import sqlalchemy as sa

    return sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_the_tracker_store_retries_while_the_database_is_unreachable_then_gives_up():
    import asyncio

    from policies import tracker_store

    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise _operational_error()
        return "tracker"

    assert asyncio.run(tracker_store.while_unreachable(flaky, 10, "reading")) == "tracker" and len(calls) == 3

    async def down():
        raise _operational_error()

    with pytest.raises(Exception) as raised:
        asyncio.run(tracker_store.while_unreachable(down, 0.6, "reading"))
    assert "server closed the connection" in str(raised.value)
