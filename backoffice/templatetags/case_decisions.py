"""The decision panel of the case page: what it offers depends on the case and the user's role."""

from __future__ import annotations

from django import template

from submissions.decision_letters import decision_letters_of
from submissions.models import Submission

from ..decisions import DECISION_STATUSES, can_reopen

register = template.Library()

Status = Submission.Status


@register.simple_tag(takes_context=True)
def decision_panel(context, case: Submission) -> dict:
    """Letters (with replaced ones), and which decision forms the current user gets."""
    user = context["request"].user
    letters = decision_letters_of(submission=case) if case.purged_at is None else []
    open_for_decision = case.purged_at is None and case.status in (
        Status.IN_PROGRESS,
        Status.INFO_REQUESTED,
    )
    decided = case.purged_at is None and case.status in DECISION_STATUSES
    return {
        "letters": letters,
        "open_for_decision": open_for_decision,
        "awaiting_work": case.purged_at is None
        and case.status in (Status.RECEIVED, Status.FORWARDED),
        "decided": decided,
        "has_current": any(letter.superseded_at is None for letter in letters),
        "can_reopen": decided and can_reopen(user=user, submission=case),
    }
