"""Pages anyone may read: the privacy notice linked from the chats."""
from flask import Blueprint, render_template

blueprint = Blueprint("public", __name__)


@blueprint.get("/privacy")
def privacy():
    return render_template("public/privacy.html")
