"""The desk's landing page after login."""
from flask import Blueprint, render_template
from flask_login import login_required

from desk.web.health import database_state

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
@login_required
def index():
    return render_template("home/index.html", database=database_state())
