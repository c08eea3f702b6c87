"""Pages anyone may read: the service's home and the privacy notice."""
from flask import Blueprint, render_template

from desk.web.health import database_state

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def home():
    return render_template("public/home.html", database=database_state())


@blueprint.get("/privacy")
def privacy():
    return render_template("public/privacy.html")
