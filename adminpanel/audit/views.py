"""The auditors' views: the filtered log, one event in its chain, exports, verify now; and the 403 handler."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from adminpanel.accounts.decorators import requires
from adminpanel.audit import exports, services
from adminpanel.audit.forms import AuditFilterForm, cursor_param
from adminpanel.audit.models import Action, AuditEvent, Outcome

logger = logging.getLogger(__name__)
PAGE_SIZE = 50


@require_GET
@requires("view_audit")
@vary_on_headers("HX-Request")
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if form.is_valid():
        page = services.event_page(
            services.filtered_events(form.to_filter()),
            before=cursor_param(request.GET.get("before")),
            after=cursor_param(request.GET.get("after")),
            size=PAGE_SIZE,
        )
    else:
        page = services.EventPage(events=[], newer_cursor=None, older_cursor=None)
    context = {
        "form": form,
        "page": page,
        "filter_qs": form.query_string(),
        "link_suffix": f"?{form.query_string()}" if form.query_string() else "",
        "verification": services.last_verification(),
    }
    template = "audit/event_list.html#results" if getattr(request, "htmx", False) else "audit/event_list.html"
    return render(request, template, context)


@require_GET
@requires("view_audit")
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    event = get_object_or_404(AuditEvent, id=event_id)
    form = AuditFilterForm(request.GET)
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "details_json": json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False),
            "correlated": services.correlated_events(event),
            "position": services.chain_position(event),
            "filter_qs": form.query_string(),
        },
    )


@require_POST
@requires("view_audit")
def verify_now(request: HttpRequest) -> HttpResponse:
    run = services.run_verification(source="ui", triggered_by=request.user.get_username())
    services.record(
        Action.AUDIT_VERIFY,
        Outcome.SUCCEEDED if run.ok else Outcome.FAILED,
        request=request,
        details={"source": "ui", "head_seq": run.head_seq, "first_bad_seq": run.first_bad_seq},
    )
    if run.ok:
        messages.success(request, f"Chain verified: {run.events_checked} events intact.")
    else:
        messages.error(request, f"The chain is broken. {run.message}")
    return redirect("audit:events-list")


@require_GET
@requires("view_audit")
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@require_GET
@requires("view_audit")
def export_jsonl(request: HttpRequest) -> HttpResponse:
    return _export(request, "jsonl")


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Invalid filter: " + "; ".join(form.errors.get("until", ["check the dates"])))
    event_filter = form.to_filter()
    # The export is itself audited; it covers exactly the events recorded before it.
    marker = services.record(
        Action.AUDIT_EXPORT,
        Outcome.SUCCEEDED,
        request=request,
        details={"format": fmt, "filter": event_filter.as_dict()},
    )
    qs = services.filtered_events(event_filter)
    stream = exports.csv_stream if fmt == "csv" else exports.jsonl_stream
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/jsonl; charset=utf-8"
    response = StreamingHttpResponse(stream(qs, up_to_seq=marker.seq - 1), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: every refusal is answered 403 and recorded as access.denied."""
    match = getattr(request, "resolver_match", None)
    message = str(exception or "")
    details = {
        "path": request.path[:500],
        "method": request.method,
        "view": match.view_name if match else "",
        # @requires raises PermissionDenied("accounts.<codename>") to name the permission that was missing.
        "permission": message if message.startswith("accounts.") else "",
    }
    try:
        services.record(Action.ACCESS_DENIED, Outcome.DENIED, request=request, details=details)
    except DatabaseError:  # a refusal must still be a refusal when the log cannot be written
        logger.exception("could not record access.denied for %s", request.path)
    template = "audit/denied_fragment.html" if getattr(request, "htmx", False) else "403.html"
    return render(request, template, status=403)
