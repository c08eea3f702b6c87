"""Messages the desk itself sends to users on their channel, in their language."""
from __future__ import annotations

_RESOLVED = {
    "it": (
        "La tua richiesta {ref} è stata risolta dall'operatore. Da ora ti risponde di nuovo "
        "l'assistente: scrivimi pure se hai altre domande."
    ),
    "en": (
        "Your request {ref} has been resolved by the operator. From now on the assistant answers "
        "you again: just write if you have other questions."
    ),
}


def resolution_notice(ref: str, language: str) -> str:
    return _RESOLVED.get(language, _RESOLVED["it"]).format(ref=ref)
