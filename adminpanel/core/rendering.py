"""Rendering a page, or for htmx only the part of it that changes: the one way every view answers."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

from adminpanel.core.problems import Problem


class HtmxHttpRequest(HttpRequest):
    """What our views receive: django-htmx's middleware sets `request.htmx` on every request."""

    htmx: HtmxDetails


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or its `{% partialdef %}` for an htmx request; the status stays honest either way.

    htmx is told (base.html's htmx-config) to swap our 4xx/5xx answers like any other, so a form with errors is
    re-rendered with 422 and a refusal keeps its status. A 503 with a Problem that knows when to retry says so.
    """
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    problem = context.get("problem")
    if status == 503 and isinstance(problem, Problem) and problem.retry_after:
        response["Retry-After"] = str(math.ceil(problem.retry_after))
    return response
