"""The dashboard's form renderer: every `{{ field.as_field_group }}` uses templates/forms/field.html."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class DashboardFormRenderer(TemplatesSetting):
    """Our templates first (the field group), Django's own for widgets; Django's aria-describedby ids stay true."""

    field_template_name = "forms/field.html"
