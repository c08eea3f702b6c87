"""Each report section as one table: the same rows feed the page's accessible table, the
chart next to it and the CSV export, so the three never disagree."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy.orm import Session

from desk.services import reports
from desk.services.business_hours import BusinessCalendar
from desk.services.periods import Period

# Column kinds: how a value is shown on the page and written to the CSV.
TEXT, COUNT, HOURS, SHARE, DAY, MOMENT = "text", "count", "hours", "share", "day", "moment"

STATUS_LABELS = {"open": "Aperti", "in_progress": "In lavorazione", "waiting_on_user": "In attesa dell'utente"}
CONVERSATION_LABELS = (
    ("contained", "Contenute dall'assistente"),
    ("escalated", "Passate a una persona"),
    ("unanswered", "Senza risposta"),
)
TURN_LABELS = (
    ("answered", "Risposte dalla base di conoscenza"),
    ("clarified", "Chiarimenti: «quale di questi argomenti?»"),
    ("unanswered", "Non capite / fuori ambito"),
    ("escalated", "Passate a una persona"),
    ("kb_unavailable", "Base di conoscenza non raggiungibile"),
)
CHOICE_LABELS = {
    "topic": "Ha scelto uno degli argomenti",
    "person": "Ha chiesto una persona",
    "other": "Ha scritto altro",
    "none": "Nessuna risposta",
}
# Spreadsheets run cells that start with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: Tuple[Column, ...]
    rows: List[Tuple[Any, ...]]


@dataclass(frozen=True)
class Context:
    session: Session
    period: Period
    calendar: BusinessCalendar
    now: Optional[datetime] = None


def containment_table(context: Context) -> Table:
    report = reports.containment(context.session, context.period)
    rows = [("Conversazioni", label, getattr(report, kind), reports.share(getattr(report, kind), report.conversations))
            for kind, label in CONVERSATION_LABELS]
    rows += [("Turni", label, report.turns.get(kind, 0), reports.share(report.turns.get(kind, 0), report.total_turns))
             for kind, label in TURN_LABELS]
    return Table("containment", "Contenimento", (
        Column("Livello"), Column("Esito"), Column("Numero", COUNT), Column("Quota", SHARE)), rows)


def escalations_table(context: Context) -> Table:
    rows = [(day.day, day.escalated_turns, day.tickets_opened) for day in reports.escalations_per_day(context.session, context.period)]
    return Table("escalations", "Passaggi a una persona per giorno", (
        Column("Giorno", DAY), Column("Richieste di una persona", COUNT), Column("Ticket aperti", COUNT)), rows)


def response_times_table(context: Context) -> Table:
    rows = [(stats.label, stats.tickets, stats.measured, stats.median_hours, stats.p90_hours)
            for stats in reports.response_times(context.session, context.period, context.calendar)]
    return Table("response_times", "Tempi di risposta e di risoluzione (ore lavorative)", (
        Column("Misura"), Column("Ticket aperti nel periodo", COUNT), Column("Ticket misurati", COUNT),
        Column("Mediana (ore lavorative)", HOURS), Column("90° percentile (ore lavorative)", HOURS)), rows)


def backlog_table(context: Context) -> Table:
    backlog = reports.backlog(context.session, context.period, context.now)
    rows = [(STATUS_LABELS[status], count) for status, count in backlog.by_status.items()]
    rows += [("Totale in corso", backlog.total), ("In ritardo sullo SLA", backlog.overdue)]
    return Table("backlog", "Arretrato adesso", (Column("Ticket"), Column("Numero", COUNT)), rows)


def topics_table(context: Context) -> Table:
    rows = [(item.topic, item.title, item.answered) for item in reports.top_topics(context.session, context.period)]
    return Table("topics", "Argomenti più chiesti", (
        Column("Argomento"), Column("Titolo"), Column("Risposte date", COUNT)), rows)


def unanswered_table(context: Context) -> Table:
    rows = [(item.text, item.count, item.last_seen, item.channels, item.languages)
            for item in reports.top_unanswered(context.session, context.period)]
    return Table("unanswered", "Messaggi senza risposta più frequenti", (
        Column("Messaggio"), Column("Volte", COUNT), Column("Ultima volta", MOMENT), Column("Canali"), Column("Lingue")), rows)


def satisfaction_table(context: Context) -> Table:
    rows = [(item.topic, item.title, item.helpful, item.not_helpful, item.total, item.helpful_share)
            for item in reports.satisfaction(context.session, context.period)]
    return Table("satisfaction", "Soddisfazione per argomento", (
        Column("Argomento"), Column("Titolo"), Column("Utile", COUNT), Column("Non utile", COUNT),
        Column("Voti", COUNT), Column("Quota utile", SHARE)), rows)


def clarifications_table(context: Context) -> Table:
    summary = reports.clarification_summary(context.session, context.period)
    rows = [("Chiarimenti chiesti", summary.total, reports.share(summary.total, summary.turns))]
    rows += [(CHOICE_LABELS[choice], count, reports.share(count, summary.total)) for choice, count in summary.choices.items()]
    return Table("clarifications", "Chiarimenti e scelte degli utenti", (
        Column("Esito"), Column("Numero", COUNT), Column("Quota", SHARE)), rows)


def clarified_topics_table(context: Context) -> Table:
    summary = reports.clarification_summary(context.session, context.period)
    titles = reports.topic_titles(context.session)
    rows = [(item.topic, titles.get(item.topic, item.topic), item.offered, item.first, item.chosen,
             reports.share(item.chosen, item.offered)) for item in summary.topics[:reports.TOP_LIMIT]]
    return Table("clarified_topics", "Argomenti proposti nei chiarimenti", (
        Column("Argomento"), Column("Titolo"), Column("Proposto", COUNT), Column("Proposto per primo", COUNT),
        Column("Scelto", COUNT), Column("Quota scelto", SHARE)), rows)


def _breakdown_table(context: Context, dimension: str, name: str, title: str, label: str) -> Table:
    rows = [
        (row.value, row.containment.conversations, row.containment.contained, row.containment.escalated,
         row.containment.unanswered, row.containment.rate, row.tickets, row.first_response_median)
        for row in reports.breakdown(context.session, context.period, dimension, context.calendar)
    ]
    return Table(name, title, (
        Column(label), Column("Conversazioni", COUNT), Column("Contenute", COUNT), Column("Passate a una persona", COUNT),
        Column("Senza risposta", COUNT), Column("Contenimento", SHARE), Column("Ticket aperti", COUNT),
        Column("Mediana prima risposta (ore lavorative)", HOURS)), rows)


def channels_table(context: Context) -> Table:
    return _breakdown_table(context, "channel", "channels", "Per canale", "Canale")


def languages_table(context: Context) -> Table:
    return _breakdown_table(context, "language", "languages", "Per lingua", "Lingua")


def checks_table(context: Context) -> Table:
    from desk.services.checks import CHECKS
    from desk.services.checks.texts import TITLES

    rows = [(TITLES[item.check]["it"] if item.check in TITLES else item.check, item.started, item.completed,
             item.completion_rate, item.followed_by_ticket, item.outdated, item.cancelled)
            for item in reports.check_usage(context.session, context.period, list(CHECKS))]
    return Table("checks", "Verifiche guidate", (
        Column("Verifica"), Column("Avviate", COUNT), Column("Completate", COUNT), Column("Quota completate", SHARE),
        Column("Seguite da un ticket", COUNT), Column("Regole in aggiornamento", COUNT), Column("Annullate", COUNT)),
        rows)


SECTIONS: Dict[str, Callable[[Context], Table]] = {
    "containment": containment_table,
    "escalations": escalations_table,
    "response_times": response_times_table,
    "backlog": backlog_table,
    "topics": topics_table,
    "unanswered": unanswered_table,
    "clarifications": clarifications_table,
    "clarified_topics": clarified_topics_table,
    "satisfaction": satisfaction_table,
    "channels": channels_table,
    "languages": languages_table,
    "checks": checks_table,
}


def all_tables(context: Context) -> Dict[str, Table]:
    return {name: build(context) for name, build in SECTIONS.items()}


# --- CSV ---------------------------------------------------------------------------------

def csv_cell(value: Any, kind: str, period: Period) -> str:
    if value is None:
        return ""
    if kind == HOURS:
        return f"{value:.2f}"
    if kind == SHARE:
        return f"{value:.4f}"
    if kind == DAY:
        return value.isoformat()
    if kind == MOMENT:
        return local_moment(value, period)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return defuse_formula(str(value))


def defuse_formula(text: str) -> str:
    """A leading quote keeps a spreadsheet from running user text as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def local_moment(value: datetime, period: Period) -> str:
    return value.replace(tzinfo=timezone.utc).astimezone(period.zone).strftime("%Y-%m-%d %H:%M")


def to_csv(table: Table, period: Period) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the accents right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([defuse_formula(column.label) for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(value, column.kind, period) for value, column in zip(row, table.columns)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- page formatting ---------------------------------------------------------------------

def page_cell(value: Any, kind: str, period: Period) -> str:
    """Italian formatting for the page's tables."""
    if value is None:
        return "—"
    if kind == HOURS:
        return f"{value:.1f}".replace(".", ",") + " h"
    if kind == SHARE:
        return f"{value * 100:.1f}".replace(".", ",") + "%"
    if kind == DAY:
        return value.strftime("%d/%m/%Y")
    if kind == MOMENT:
        return value.replace(tzinfo=timezone.utc).astimezone(period.zone).strftime("%d/%m/%Y %H:%M")
    return str(value)


def chart_data(tables: Dict[str, Table]) -> Dict[str, Any]:
    """Plain numbers for Chart.js (serialised with |tojson, read by static/js/reports.js)."""
    containment = tables["containment"].rows
    per_day = tables["escalations"].rows
    times = tables["response_times"].rows
    return {
        "containment": {
            "labels": [row[1] for row in containment if row[0] == "Conversazioni"],
            "values": [row[2] for row in containment if row[0] == "Conversazioni"],
        },
        "escalations": {
            "labels": [row[0].strftime("%d/%m") for row in per_day],
            "series": [
                {"label": "Richieste di una persona", "values": [row[1] for row in per_day]},
                {"label": "Ticket aperti", "values": [row[2] for row in per_day]},
            ],
        },
        "response_times": {
            "labels": [row[0] for row in times],
            "series": [
                {"label": "Mediana", "values": [_rounded(row[3]) for row in times]},
                {"label": "90° percentile", "values": [_rounded(row[4]) for row in times]},
            ],
        },
        "topics": {
            "labels": [row[1] for row in tables["topics"].rows],
            "values": [row[2] for row in tables["topics"].rows],
        },
        "satisfaction": {
            "labels": [row[1] for row in tables["satisfaction"].rows],
            "series": [
                {"label": "Utile", "values": [row[2] for row in tables["satisfaction"].rows]},
                {"label": "Non utile", "values": [row[3] for row in tables["satisfaction"].rows]},
            ],
        },
        "channels": _breakdown_chart(tables["channels"].rows),
        "languages": _breakdown_chart(tables["languages"].rows),
    }


def _breakdown_chart(rows: Sequence[Tuple[Any, ...]]) -> Dict[str, Any]:
    return {
        "labels": [row[0] for row in rows],
        "series": [
            {"label": "Contenute", "values": [row[2] for row in rows]},
            {"label": "Passate a una persona", "values": [row[3] for row in rows]},
            {"label": "Senza risposta", "values": [row[4] for row in rows]},
        ],
    }


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)
