"""The facts the privacy notice (/privacy) states, taken from the same configuration the
software runs with: the retention periods shown are the ones the purge applies."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

from desk.services.privacy.retention import RULES, RetentionPolicy


@dataclass(frozen=True)
class RetentionLine:
    kind: str
    days: int
    label: str
    what_happens: str
    label_en: str
    what_happens_en: str


@dataclass(frozen=True)
class Notice:
    version: str
    controller_name: str
    controller_contact: str
    dpo_contact: str
    retention: List[RetentionLine]
    tracker_store_configured: bool
    # Whether erasure reaches the assistant's memory of a conversation (SQL tracker store or HTTP API).
    assistant_memory_erasable: bool

    @property
    def complete(self) -> bool:
        """Whether the controller and a contact for requests are configured."""
        return bool(self.controller_name and (self.controller_contact or self.dpo_contact))


def notice_from(privacy_settings) -> Notice:
    policy: RetentionPolicy = privacy_settings.retention
    lines = [
        RetentionLine(rule.kind.value, policy.days[rule.kind], rule.label, rule.what_happens,
                      rule.label_en, rule.what_happens_en)
        for rule in RULES
        if rule.kind.value != "tracker_events" or privacy_settings.tracker_store_url
    ]
    return Notice(
        version=privacy_settings.notice_version,
        controller_name=privacy_settings.controller_name,
        controller_contact=privacy_settings.controller_contact,
        dpo_contact=privacy_settings.dpo_contact,
        retention=lines,
        tracker_store_configured=bool(privacy_settings.tracker_store_url),
        assistant_memory_erasable=bool(privacy_settings.tracker_store_url or privacy_settings.rasa_api_token),
    )
