"""The landing page: sends each staff member to the first area their role opens."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from adminpanel.core.context_processors import dashboard


def home(request: HttpRequest) -> HttpResponse:
    nav = dashboard(request)["nav_items"]
    if nav:
        return redirect(nav[0][2])  # type: ignore[index]
    return render(request, "core/no_role.html")
