"""Pages anyone may read: the privacy notice linked from the chats, generated from the
configuration the software runs with (desk.services.privacy.notice)."""
from flask import Blueprint, current_app, render_template

from desk.services.privacy.notice import notice_from

blueprint = Blueprint("public", __name__)


@blueprint.get("/privacy")
def privacy():
    settings = current_app.config["DIALOGA_SETTINGS"]
    return render_template("public/privacy.html", notice=notice_from(settings.privacy))
