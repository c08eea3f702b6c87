"""Update notices and area search in the chat: the actions with a real Tracker on both
databases, a supervisor's "rules changed" publication from the desk, and the notice reaching
the Telegram deliverer and the widget's update endpoint."""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.knowledge import ActionAnswerTopic
from actions.service_points import ActionFindServicePoint
from actions.update_notices import ActionCancelSubscription, ActionListSubscriptions, ActionSubscribeUpdates
from bot.telegram import delivery
from desk.config import PROJECT_ROOT
from desk.models import Role
from desk.services import knowledge, update_notices
from desk.services.directory import seed_directory
from tests.support.desk import desk_app_for, log_in, make_user, post_form
from tests.test_actions import action_database, run  # noqa: F401 (fixture)
from tests.test_knowledge_editor import form_of

TOPIC = "fringe_benefit_soglie"


def chat(text, intent, channel, address, slots=None, entities=None):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or [],
              "metadata": {"channel": channel, "reply_address": address}}
    return Tracker(f"{channel}-{address}", {"language": "it", **(slots or {})}, latest, [], False, None, {}, channel)


def test_an_answer_offers_the_notice_and_the_press_subscribes_this_chat(action_database):
    messages, _ = run(ActionAnswerTopic(), chat("soglia fringe benefit", TOPIC, "telegram", "777"))
    assert {"title": "Avvisami se cambia", "payload": "/subscribe_updates"} in messages[0]["buttons"]
    messages, _ = run(ActionSubscribeUpdates(), chat("/subscribe_updates", "subscribe_updates", "telegram", "777",
                                                     slots={"last_topic": TOPIC}))
    assert messages[0]["custom"] == {"subscription": {"topic": TOPIC, "status": "active"}}
    assert "te lo scrivo qui" in messages[0]["text"] and "/avvisi" in messages[0]["text"]
    with action_database.session() as session:
        assert [s.topic for s in update_notices.active(session, "telegram", "777")] == [TOPIC]


def test_avvisi_lists_and_a_button_cancels(action_database):
    with action_database.session() as session:
        update_notices.subscribe(session, "widget", "w-9", TOPIC, "it")
        update_notices.subscribe(session, "widget", "w-9", "part_time", "it")
    messages, _ = run(ActionListSubscriptions(), chat("/avvisi", "avvisi", "widget", "w-9"))
    assert messages[0]["custom"] == {"subscriptions": ["fringe_benefit_soglie", "part_time"]}
    cancel_one = next(b["payload"] for b in messages[0]["buttons"] if "part_time" in b["payload"])
    assert cancel_one == '/cancel_updates{"subscription_topic": "part_time"}'
    run(ActionCancelSubscription(), chat(cancel_one, "cancel_updates", "widget", "w-9",
                                         entities=[{"entity": "subscription_topic", "value": "part_time"}]))
    messages, _ = run(ActionListSubscriptions(), chat("/avvisi", "avvisi", "widget", "w-9"))
    assert messages[0]["custom"] == {"subscriptions": [TOPIC]}
    run(ActionCancelSubscription(), chat("basta avvisi", "cancel_updates", "widget", "w-9"))
    messages, _ = run(ActionListSubscriptions(), chat("/avvisi", "avvisi", "widget", "w-9"))
    assert messages[0]["custom"] == {"subscriptions": []}


def test_where_to_go_reads_the_comune_or_the_postal_code(action_database):
    with action_database.session() as session:
        seed_directory(session, PROJECT_ROOT / "data" / "directory" / "service_points.yml")
    messages, _ = run(ActionFindServicePoint(), chat("sportello vicino a 20017", "find_service_point", "rest", "u",
                                                     slots={"last_topic": "assistenza_anziani"}))
    assert messages[0]["custom"]["service_points"]["comune"] == "Rho"
    assert "Dove rivolgersi a Rho per questo argomento:" in messages[0]["text"]
    assert "Ambito sociale del tuo Comune" in messages[0]["text"]
    assert "/sportelli/?dove=Rho&argomento=assistenza_anziani" in messages[0]["text"]
    messages, _ = run(ActionFindServicePoint(), chat("dove mi rivolgo?", "find_service_point", "rest", "u"))
    assert messages[0]["custom"] == {"service_points": {"asks": "area"}}


def test_a_published_rules_change_reaches_telegram_and_the_widget(action_database):
    app = desk_app_for(action_database)
    widget = app.test_client()
    session_id = widget.post("/widget/api/session", json={"lang": "it"}).json
    run(ActionSubscribeUpdates(), chat("/subscribe_updates", "subscribe_updates", "telegram", "777",
                                       slots={"last_topic": TOPIC}))
    run(ActionSubscribeUpdates(), chat("/subscribe_updates", "subscribe_updates", "widget", session_id["session"],
                                       slots={"last_topic": TOPIC}))
    supervisor = app.test_client()
    log_in(supervisor, make_user(action_database, Role.SUPERVISOR))
    with action_database.session() as session:
        entry = knowledge.find_entry(session, TOPIC)
    new_text = entry.answer_it.replace("I fringe benefit sono", "Dal nuovo anno i fringe benefit sono")
    response = post_form(supervisor, f"/knowledge/{TOPIC}", form_of(entry, answer_it=new_text, rules_changed="on"),
                         follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Chi segue l&#39;argomento riceverà un avviso" in page
    pending = delivery.take_next(action_database, lease_seconds=60)
    assert (pending.address, pending.kind) == ("777", "update_notice")
    assert delivery.take_next(action_database, lease_seconds=60) is None  # the only Telegram message
    assert "Dal nuovo anno i fringe benefit sono" in delivery.text_of(pending)
    updates = widget.get(f"/widget/api/updates?session={session_id['session']}&after=0",
                         headers={"X-Widget-Token": session_id["token"]}).json
    assert [m["kind"] for m in updates["messages"]] == ["update_notice"]
    assert "Sono cambiate le regole" in updates["messages"][0]["text"]


def test_reports_show_subscriptions_and_notices_per_topic(action_database):
    with action_database.session() as session:
        update_notices.subscribe(session, "telegram", "1", TOPIC, "it")
        update_notices.subscribe(session, "telegram", "2", TOPIC, "it")
        entry = knowledge.update_entry(session, TOPIC, {"answer_en": "Changed."}, "sup@x.example", rules_changed=True)
        update_notices.notify_subscribers(session, entry)
    client = desk_app_for(action_database).test_client()
    log_in(client, make_user(action_database, Role.SUPERVISOR))
    page = client.get("/reports/").get_data(as_text=True)
    table = page.split('id="notices-per-topic"')[1].split("</table>")[0]
    assert f'<tr data-topic="{TOPIC}"><td>{TOPIC}</td><td>2</td><td>2</td></tr>' in table
