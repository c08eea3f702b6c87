"""Modelli (supervisors and admins): train a new model in the background, see it evaluated
against the live one, promote it; the history of versions. Also the model server the assistants
pull the live model from (GET /models/live.tar.gz, Rasa's `models:` endpoint, with its token)."""
from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from desk.models import JobStatus, ModelStatus, Role
from desk.services.models import jobs, versions
from desk.services.models.gate import RULES
from desk.services.models.jobs import TrainingAlreadyActive
from desk.services.models.versions import ModelFileMissing, NotPromotable
from desk.web.extensions import db_session, settings_of
from desk.web.auth import role_required
from desk.web.ticket_display import local_time

blueprint = Blueprint("models", __name__)

REFRESH_SECONDS = 3
STAGES = (
    (JobStatus.QUEUED, "In coda", "created_at"),
    (JobStatus.TRAINING, "Addestramento", "training_started_at"),
    (JobStatus.EVALUATING, "Valutazione", "evaluating_started_at"),
)
OUTCOMES = {
    JobStatus.DONE: "Superato: può diventare il modello attivo",
    JobStatus.REFUSED: "Rifiutato: peggiore del modello attivo",
    JobStatus.FAILED: "Non riuscito",
}
STATUS_LABELS = {
    ModelStatus.LIVE.value: "attivo",
    ModelStatus.CANDIDATE.value: "candidato",
    ModelStatus.REFUSED.value: "rifiutato",
    ModelStatus.RETIRED.value: "ritirato",
}
FIGURES = tuple((metric, label) for metric, label, _, _ in RULES) + (("escalated_in_scope", "Domande in ambito passate a una persona"),)
GROUPS = (("all", "Tutte"), ("it", "Italiano"), ("en", "Inglese"))


def _models_dir():
    return settings_of(current_app).models_dir


def _status_context(session):
    job = jobs.active_job(session) or next(iter(jobs.recent_jobs(session, 1)), None)
    candidate = session.get(versions.ModelVersion, job.version_id) if job is not None and job.version_id else None
    return {
        "job": job, "candidate": candidate, "stages": STAGES, "outcomes": OUTCOMES, "figures": FIGURES,
        "groups": GROUPS, "refresh_seconds": REFRESH_SECONDS, "local_time": local_time,
        "status_labels": STATUS_LABELS, "JobStatus": JobStatus, "ModelStatus": ModelStatus,
        "promotable": versions.PROMOTABLE,
    }


@blueprint.get("/modelli/")
@role_required(Role.SUPERVISOR)
def index():
    with db_session() as session:
        context = _status_context(session)
        live = versions.live_version(session)
        history = versions.history(session)
        recent = jobs.recent_jobs(session)
    return render_template("models/index.html", live=live, history=history, recent=recent, **context)


@blueprint.get("/modelli/stato")
@role_required(Role.SUPERVISOR)
def status():
    with db_session() as session:
        context = _status_context(session)
    response = current_app.make_response(render_template("models/_job.html", **context))
    job = context["job"]
    if request.headers.get("HX-Request") and (job is None or not job.active):
        # The job the page was following has ended: reload it once (history, button).
        response.headers["HX-Refresh"] = "true"
    return response


@blueprint.post("/modelli/addestra")
@role_required(Role.SUPERVISOR)
def train():
    with db_session() as session:
        try:
            jobs.request_training(session, current_user.email)
        except TrainingAlreadyActive:
            flash("C'è già un addestramento in coda o in corso: attendi che finisca.", "error")
            return redirect(url_for("models.index"))
    flash("Addestramento in coda: il worker lo avvia entro pochi secondi. Puoi seguirlo qui.", "success")
    return redirect(url_for("models.index"))


@blueprint.post("/modelli/<int:version_id>/attiva")
@role_required(Role.SUPERVISOR)
def promote(version_id: int):
    with db_session() as session:
        try:
            version = versions.promote(session, version_id, current_user.email, _models_dir())
        except NotPromotable:
            flash("Questo modello non può diventare attivo (solo un candidato che ha superato la valutazione "
                  "o un modello già stato attivo).", "error")
            return redirect(url_for("models.index"))
        except ModelFileMissing:
            flash("Il file di questo modello non c'è più nella cartella dei modelli.", "error")
            return redirect(url_for("models.index"))
        short = version.sha256[:12]
    flash(f"Il modello {short} è ora quello attivo: gli assistenti lo caricano al prossimo controllo, "
          "senza interrompere le conversazioni.", "success")
    return redirect(url_for("models.index"))


@blueprint.get("/models/live.tar.gz")
def live_model():
    """Rasa's model server: the live model with its sha256 as ETag (304 when the assistant has it).
    Rasa sends the secret as the `token` query parameter (endpoints.yml `models: token:`)."""
    expected = settings_of(current_app).model_server_token
    if not expected:
        abort(404)
    if not hmac.compare_digest(request.args.get("token", "").encode(), expected.encode()):
        abort(403)
    try:
        handle = open(versions.live_path(_models_dir()), "rb")
    except FileNotFoundError:
        abort(404)
    # Hash and send the same open file: a promotion renames a new file into place and never
    # changes this one under us.
    sha256 = versions.sha256_of_open_file(handle)
    response = send_file(handle, mimetype="application/gzip", as_attachment=True, download_name="dialoga.tar.gz",
                         etag=sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
