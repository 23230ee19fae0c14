"""The citizen's Bescheide on the status page (the page's view has checked access already)."""

from __future__ import annotations

from django import template

from submissions.decision_letters import decision_letters_of
from submissions.models import DecisionLetter, Submission

register = template.Library()


@register.simple_tag
def citizen_decision_letters(submission: Submission | None) -> list[DecisionLetter]:
    """The letters of a submission the status page shows, newest first; [] for none or purged."""
    if submission is None or submission.purged_at is not None:
        return []
    return list(reversed(decision_letters_of(submission=submission)))
