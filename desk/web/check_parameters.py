"""The guided checks' parameters (ceilings, months at 80%, ISEE bands...): supervisors see
every dated period, edit a value with its source, add the next period, and read each
parameter's history. The checks read them from the database at every result, so a save
is live at once; a rule with no period covering today makes the checks offer an operator."""
from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any, Dict, Tuple

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from desk.models import Role
from desk.services.checks import CHECKS
from desk.services.checks.parameters import (UNITS, InvalidParameter, ParameterConflict, add_period, content, find,
                                             history, list_parameters)
from desk.services.checks.parameters import edit_parameter as save_parameter
from desk.services.checks.texts import TITLES
from desk.web.extensions import db_session
from desk.web.auth import role_required
from desk.web.form_values import int_or_none
from desk.web.knowledge import today

blueprint = Blueprint("check_parameters", __name__, url_prefix="/verifiche/parametri")


def _state(row, day: date) -> str:
    if day < row.valid_from:
        return "futuro"
    if row.valid_until is not None and day > row.valid_until:
        return "scaduto"
    return "in vigore"


@blueprint.get("/")
@role_required(Role.SUPERVISOR)
def index():
    day = today()
    with db_session() as session:
        rows = list_parameters(session)
        groups: "OrderedDict[str, list]" = OrderedDict((check, []) for check in CHECKS)
        for row in rows:
            groups.setdefault(row.key.split(".", 1)[0], []).append((row, _state(row, day)))
        in_force = {row.key for row in rows if _state(row, day) == "in vigore"}
        updating = sorted({row.key for row in rows} - in_force)
        return render_template("check_parameters/index.html", groups=groups, titles=TITLES, updating=updating,
                               today=day)


@blueprint.get("/<int:parameter_id>")
@role_required(Role.SUPERVISOR)
def edit(parameter_id: int):
    with db_session() as session:
        row = _row_or_404(session, parameter_id)
        return _render_edit(row, _as_form(content(row)), row.version)


@blueprint.post("/<int:parameter_id>")
@role_required(Role.SUPERVISOR)
def save(parameter_id: int):
    values, errors = _values_from_form()
    based_on = int_or_none(request.form.get("base_version"))
    note = request.form.get("note", "").strip()[:500]
    with db_session() as session:
        row = _row_or_404(session, parameter_id)
        if based_on is None:
            errors["base_version"] = "Manca la versione di partenza: ricarica la pagina."
        if not errors:
            try:
                saved = save_parameter(session, parameter_id, values, current_user.email, based_on, today(), note)
            except InvalidParameter as error:
                errors = error.errors
            except ParameterConflict as conflict:
                flash(f"Nel frattempo {conflict.author} ha salvato la versione {conflict.current}: le tue modifiche "
                      "NON sono state salvate. Controlla il valore attuale e riprova.", "error")
                return _render_edit(row, _as_form(values), row.version), 409
            else:
                flash(f"Parametro salvato (versione {saved.version}): le verifiche lo usano già dal prossimo calcolo.",
                      "success")
                return redirect(url_for("check_parameters.edit", parameter_id=parameter_id))
        return _render_edit(row, _as_form(values), based_on or row.version, errors), 422


@blueprint.get("/<int:parameter_id>/nuovo-periodo")
@role_required(Role.SUPERVISOR)
def new_period(parameter_id: int):
    with db_session() as session:
        row = _row_or_404(session, parameter_id)
        proposed = dict(_as_form(content(row)), valid_from="", valid_until="", verified_on=today().isoformat())
        return render_template("check_parameters/new_period.html", row=row, content=proposed, errors={}, units=UNITS,
                               today=today().isoformat())


@blueprint.post("/<int:parameter_id>/nuovo-periodo")
@role_required(Role.SUPERVISOR)
def create_period(parameter_id: int):
    values, errors = _values_from_form()
    with db_session() as session:
        row = _row_or_404(session, parameter_id)
        if not errors:
            try:
                created = add_period(session, row.key, values, current_user.email, today(),
                                     request.form.get("note", "").strip()[:500])
            except InvalidParameter as error:
                errors = error.errors
            else:
                flash("Nuovo periodo salvato.", "success")
                return redirect(url_for("check_parameters.edit", parameter_id=created.id))
        return render_template("check_parameters/new_period.html", row=row, content=_as_form(values), errors=errors,
                               units=UNITS, today=today().isoformat()), 422


@blueprint.get("/<int:parameter_id>/versioni")
@role_required(Role.SUPERVISOR)
def versions(parameter_id: int):
    with db_session() as session:
        row = _row_or_404(session, parameter_id)
        return render_template("check_parameters/versions.html", row=row, changes=history(session, parameter_id))


# ---- helpers -------------------------------------------------------------------------

def _row_or_404(session, parameter_id: int):
    row = find(session, parameter_id)
    if row is None:
        abort(404)
    return row



def _values_from_form() -> Tuple[Dict[str, Any], Dict[str, str]]:
    form = request.form
    errors: Dict[str, str] = {}
    values: Dict[str, Any] = {name: form.get(name, "").strip()
                              for name in ("label", "value", "unit", "topic", "source", "source_url")}
    values["value"] = values["value"].replace(",", ".") if values["unit"] != "date" else values["value"]
    values["unconfirmed"] = form.get("unconfirmed") == "on"
    for name, optional in (("valid_from", False), ("valid_until", True), ("verified_on", False)):
        raw = form.get(name, "").strip()
        if optional and not raw:
            values[name] = None
            continue
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            values[name] = raw
            errors[name] = "Data non valida (AAAA-MM-GG)."
    return values, errors


def _as_form(values: Dict[str, Any]) -> Dict[str, Any]:
    return {name: (value.isoformat() if isinstance(value, date) else ("" if value is None else value))
            for name, value in values.items()}


def _render_edit(row, form_content, content_version, errors=None):
    return render_template("check_parameters/edit.html", row=row, content=form_content,
                           content_version=content_version, errors=errors or {}, units=UNITS,
                           today=today().isoformat())
