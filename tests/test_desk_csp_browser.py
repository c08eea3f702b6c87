"""The Content-Security-Policy in a real browser (Debian's Chromium): desk pages (login, queue
with htmx live refresh, ticket page with a form post, knowledge editor with an htmx preview,
reports with Chart.js, the widget demo) and the widget on another site with a strict policy of
its own run without a single CSP violation or console error."""
from __future__ import annotations

import pytest
from werkzeug.wrappers import Response

from desk.models import Role
from tests.support.browser import chromium, needs_chromium
from tests.support.databases import seeded_sqlite_database
from tests.support.desk import PASSWORD, desk_app_for, make_user
from tests.support.queue import open_ticket
from tests.support.web_server import RecordingAssistant, serving
from tests.test_widget import rasa_answer

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
WIDGET = "#dialoga-widget"
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => window.reportViolation(
  `${event.violatedDirective} blocked ${event.blockedURI || "inline"} in ${event.sourceFile}:${event.lineNumber}`));
"""


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory):
    """The policy does not depend on the database: one seeded SQLite file for the module."""
    database = seeded_sqlite_database(tmp_path_factory.mktemp("csp"))
    yield database
    database.dispose()


class Watched:
    """A browser page whose CSP violations and console errors are collected across navigations."""

    def __init__(self, page) -> None:
        self.page = page
        self.violations, self.errors, self.policies = [], [], []
        page.expose_function("reportViolation", lambda text: self.violations.append(text))
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._remember_error)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._remember_policy)

    def _remember_error(self, message) -> None:
        # Chromium asks every site for /favicon.ico; neither the desk nor the test site has one.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def _remember_policy(self, response) -> None:
        if response.request.resource_type == "document":
            self.policies.append(response.headers.get("content-security-policy"))

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def assert_clean(self) -> None:
        assert self.violations == [] and self.errors == [], (self.violations, self.errors)


@pytest.fixture
def watched():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(20_000)
        yield Watched(context.new_page())
        context.close()


def test_desk_pages_work_under_the_policy_without_violations(sqlite_database, watched):
    database = sqlite_database
    email = make_user(database, Role.SUPERVISOR, email="csp@sportello.example", name="Carla Supervisora")
    page = watched.page
    with serving(desk_app_for(database)) as desk:
        watched.goto(f"{desk}/login")  # a form post
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{desk}/")

        watched.goto(f"{desk}/coda")  # htmx polls the results every 5 s
        page.evaluate("window.notReloaded = true")
        ref = open_ticket(database, "csp-live")
        page.wait_for_selector(f'tr[data-ref="{ref}"]', timeout=15_000)
        assert page.evaluate("window.notReloaded") is True

        watched.goto(f"{desk}/ticket/{ref}")  # a form post from the ticket page
        page.fill("#note-body", "Nota scritta sotto la Content-Security-Policy")
        page.click("#nota button[type=submit]")
        page.wait_for_selector("text=Nota scritta sotto la Content-Security-Policy")

        watched.goto(f"{desk}/knowledge/congedo_paternita")  # the editor's htmx preview
        page.click("text=Anteprima in chat")
        page.wait_for_selector("#preview .chat-bubble")

        watched.goto(f"{desk}/reports/")  # Chart.js draws on canvases
        page.wait_for_function("() => typeof Chart !== 'undefined' && "
                               "Chart.getChart(document.getElementById('chart-containment')) !== undefined")

        watched.goto(f"{desk}/widget/demo")  # the demo association page, served by the desk
        assert page.eval_on_selector(f"{WIDGET} .launcher", "node => getComputedStyle(node).position") == "fixed"

    assert len(watched.policies) >= 7 and all(policy and "script-src 'self'" in policy for policy in watched.policies)
    watched.assert_clean()


def host_page(desk: str):
    """An association's page that embeds the widget under its own strict policy: scripts and
    connections only to the desk, nothing inline, no styles of its own."""
    policy = f"default-src 'none'; script-src {desk}; connect-src {desk}; img-src 'self'"
    html = f"""<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Associazione</title></head>
<body><h1>Associazione con una Content-Security-Policy severa</h1>
<script src="{desk}/widget.js" data-lang="it" defer></script></body></html>"""

    def app(environ, start_response):
        return Response(html, mimetype="text/html", headers={"Content-Security-Policy": policy})(environ, start_response)

    return app


def test_the_widget_works_on_a_site_with_a_strict_policy_of_its_own(sqlite_database, watched):
    assistant = RecordingAssistant(rasa_answer)
    page = watched.page
    site_app = {}  # the host page names the desk's address, known once the desk serves

    def site_page(environ, start_response):
        return site_app["app"](environ, start_response)

    with serving(assistant) as rasa_url, serving(site_page) as site:
        with serving(desk_app_for(sqlite_database, rasa_url=rasa_url, widget_origins=(site,))) as desk:
            site_app["app"] = host_page(desk)
            watched.goto(site)
            launcher = page.locator(f"{WIDGET} .launcher")
            assert launcher.evaluate("node => getComputedStyle(node).position") == "fixed"  # styled
            launcher.click()
            page.locator(f"{WIDGET} textarea").fill("congedo di paternità")
            page.keyboard.press("Enter")
            page.locator(f"{WIDGET} .message.bot", has_text="Fonte").first.wait_for()
    assert assistant.received and assistant.received[-1]["message"] == "congedo di paternità"
    watched.assert_clean()
