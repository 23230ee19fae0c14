"""Figures for the operators' metrics, read from PostgreSQL at scrape time.

Computed from the recorded state rather than counted in the process that did
the work, so they are right whichever web process serves the scrape and however
many workers there are. A handful of aggregate queries; no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from forms_catalog.models import Service
from submissions.models import Delivery, Submission

# The pipeline's steps in order, with the field that records each one's completion.
PIPELINE_STEPS: tuple[tuple[str, str], ...] = (
    ("resolve_office", "office_resolved_at"),
    ("render_pdfs", "pdfs_rendered_at"),
    ("deliver", "delivered_at"),
    ("notify_citizen", "citizen_notified_at"),
)


@dataclass(frozen=True)
class OperationsFigures:
    submissions_by_service: dict[str, int] = field(default_factory=dict)
    # step -> submissions that completed it / whose pipeline stopped at it.
    steps_done: dict[str, int] = field(default_factory=dict)
    steps_failed: dict[str, int] = field(default_factory=dict)
    # channel -> attempts made / attempts that did not deliver.
    delivery_attempts: dict[str, int] = field(default_factory=dict)
    delivery_failed_attempts: dict[str, int] = field(default_factory=dict)
    # (channel, status) -> deliveries.
    deliveries: dict[tuple[str, str], int] = field(default_factory=dict)


def operations_figures() -> OperationsFigures:
    """Current totals of submissions, pipeline steps and deliveries (four queries).

    Each aggregate reads the whole submissions or deliveries table: at a million
    submissions a call takes about a second, so callers cache the result.
    """
    # Grouped by id without a join; the few service names are looked up apart.
    counts = dict(Submission.objects.order_by().values_list("service_id").annotate(n=Count("pk")))
    slugs = dict(Service.objects.filter(pk__in=counts).values_list("pk", "slug"))
    by_service = {slugs[pk]: n for pk, n in counts.items()}
    failed = Q(pipeline_failed_at__isnull=False)
    aggregates: dict[str, Count] = {}
    open_before = Q()
    for step, recorded in PIPELINE_STEPS:
        done = Q(**{f"{recorded}__isnull": False})
        aggregates[f"done_{step}"] = Count("pk", filter=done)
        # A stopped pipeline failed at its first step that is not recorded.
        aggregates[f"failed_{step}"] = Count("pk", filter=failed & open_before & ~done)
        open_before &= done
    steps = Submission.objects.order_by().aggregate(**aggregates)
    deliveries: dict[tuple[str, str], int] = {}
    attempts: dict[str, int] = {}
    failed_attempts: dict[str, int] = {}
    rows = (
        Delivery.objects.order_by()
        .values("channel", "status")
        .annotate(n=Count("pk"), attempts=Sum("attempts"))
    )
    for row in rows:
        channel, status = row["channel"], row["status"]
        deliveries[(channel, status)] = row["n"]
        made = row["attempts"] or 0
        attempts[channel] = attempts.get(channel, 0) + made
        # A delivered delivery's last attempt succeeded; every other attempt failed.
        unsuccessful = made - (row["n"] if status == Delivery.Status.DELIVERED else 0)
        failed_attempts[channel] = failed_attempts.get(channel, 0) + max(unsuccessful, 0)
    return OperationsFigures(
        submissions_by_service=by_service,
        steps_done={step: steps[f"done_{step}"] for step, _ in PIPELINE_STEPS},
        steps_failed={step: steps[f"failed_{step}"] for step, _ in PIPELINE_STEPS},
        delivery_attempts=attempts,
        delivery_failed_attempts=failed_attempts,
        deliveries=deliveries,
    )
