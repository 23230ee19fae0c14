"""Admin for the pipeline: delivery state per channel and "retry now".

``retry_pipeline`` is offered on the case list (`cases`); the Delivery admin
is registered here. The case page shows deliveries per channel itself.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from submissions.models import Delivery
from submissions.services import delivery_retry_now, submission_pipeline_retry

from ..case_selectors import is_platform_admin, office_ids_for_user


@admin.action(description=_("Jetzt erneut zustellen"), permissions=["change"])
def retry_now(modeladmin, request, queryset) -> None:
    count = sum(delivery_retry_now(delivery=delivery) for delivery in queryset)
    modeladmin.message_user(
        request, _("%(count)d Zustellung(en) erneut angestoßen.") % {"count": count}
    )


@admin.action(description=_("Verarbeitung erneut anstoßen"), permissions=["change"])
def retry_pipeline(modeladmin, request, queryset) -> None:
    failed = queryset.filter(pipeline_failed_at__isnull=False)
    for submission in failed:
        submission_pipeline_retry(submission=submission)
    modeladmin.message_user(
        request,
        _("%(count)d Antrag/Anträge erneut angestoßen.") % {"count": failed.count()},
        messages.SUCCESS,
    )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "submission",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "failed_at",
        "last_status_code",
        "remote_status",
    )
    list_filter = ("status", "channel", "remote_status")
    search_fields = ("submission__reference",)
    readonly_fields = (
        "submission",
        "channel",
        "status",
        "attempts",
        "last_error",
        "last_status_code",
        "next_attempt_at",
        "enqueued_at",
        # The running attempt's claim (docs/pipeline.md, "Recovery").
        "claimed_at",
        "claimed_by",
        "claim_expires_at",
        "window_started_at",
        "delivered_at",
        "failed_at",
        "created_at",
        # FIT-Connect's submission and the answer of the office's system.
        "remote_id",
        "remote_case_id",
        "remote_status",
        "remote_status_at",
        "remote_problems",
    )
    actions = [retry_now]
    list_select_related = ("submission",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or is_platform_admin(user=request.user):
            return queryset
        # A clerk sees only the deliveries of their offices' cases.
        return queryset.filter(submission__office_id__in=office_ids_for_user(user=request.user))
