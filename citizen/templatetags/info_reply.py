"""The Rückfrage panel of the status page (`submissions/includes/_info_request.html`)."""

from __future__ import annotations

from django import template

from ..info_reply import info_panel

register = template.Library()


@register.simple_tag
def info_request_panel(submission):
    """The panel's context for `submission` ({} when it has no Rückfrage)."""
    if submission is None or not getattr(submission, "pk", None):
        return {}
    return info_panel(submission=submission)
