"""The auditor's filter form: the only gate for the list and export query parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms

from adminpanel.audit.models import Action, ExportFormat, Outcome
from adminpanel.audit.services import EventFilter


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Staff member")
    user = forms.CharField(required=False, max_length=255, label="Target user id")
    action = forms.CharField(required=False, max_length=64, label="Action")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices], label="Outcome")
    since = forms.DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    ticket = forms.CharField(required=False, max_length=20_000, label="Ticket")
    q = forms.CharField(required=False, max_length=200, label="Reason contains")

    known_actions = Action.ALL
    FILTER_FIELDS = ("actor", "user", "action", "outcome", "since", "until", "ticket", "q")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def to_filter(self) -> EventFilter:
        """The filter to apply; an invalid form filters nothing out but the view shows no rows."""
        data = self.cleaned_data if self.is_valid() else {}
        return EventFilter(
            actor=data.get("actor", ""),
            user_id=data.get("user", ""),
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            date_from=data.get("since"),
            date_to=data.get("until"),
            ticket=data.get("ticket", ""),
            q=data.get("q", ""),
        )

    def filter_params(self) -> dict[str, str]:
        """The current filter as query parameters (what a prepared export stores to apply it later)."""
        if not self.is_valid():
            return {}
        return {k: str(v) for k, v in self.cleaned_data.items() if k in self.FILTER_FIELDS and v not in ("", None)}

    def query_string(self) -> str:
        """The current filter as a query string, for links that must keep it (pages, exports, details)."""
        return urlencode(self.filter_params())


class ExportRequestForm(AuditFilterForm):
    """ "Prepare export": the filter (as hidden fields) and the file format."""

    format = forms.ChoiceField(choices=ExportFormat.choices)


def cursor_param(value: str | None) -> int | None:
    """?before= / ?after= are positive seq numbers; anything else means 'no cursor'."""
    if value and value.isdigit() and len(value) < 19:
        return int(value)
    return None
