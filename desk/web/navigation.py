"""The desk's main menu: each feature's page appears once its blueprint is registered
and the operator's role allows it."""
from flask import current_app
from flask_login import current_user

from desk.models import Role

# (endpoint, label, least role)
MENU = (
    ("queue.index", "Coda", Role.OPERATOR),
    ("knowledge.index", "Base di conoscenza", Role.OPERATOR),
    ("directory.index", "Sportelli sul territorio", Role.OPERATOR),
    ("learning.index", "Domande senza risposta", Role.OPERATOR),
    ("reports.index", "Report", Role.SUPERVISOR),
    ("canned.index", "Risposte predefinite", Role.SUPERVISOR),
    ("models.index", "Modelli", Role.SUPERVISOR),
    ("privacy.index", "Dati personali", Role.SUPERVISOR),
    ("check_parameters.index", "Parametri delle verifiche", Role.SUPERVISOR),
    ("admin.users", "Utenti", Role.ADMIN),
)


def menu_items():
    if not current_user.is_authenticated:
        return []
    return [
        (endpoint, label) for endpoint, label, role in MENU
        if endpoint in current_app.view_functions and current_user.can(role)
    ]


def init_app(app) -> None:
    app.context_processor(lambda: {"menu_items": menu_items})
