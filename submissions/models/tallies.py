"""Counts kept next to the submissions, so statistics never scan the submissions table.

Written only by ``submissions.tallies``, in the transactions that change what
they count (submit, status transitions, decisions); rebuilt from the
submissions by ``manage.py submission_tallies_rebuild``.
"""

from __future__ import annotations

from django.db import models


class SubmissionTally(models.Model):
    """Submissions per month of submission (local time), Gemeinde, service and current status."""

    month = models.DateField()  # the first day of the month
    gemeinde = models.ForeignKey(
        "municipalities.Gemeinde", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey("forms_catalog.Service", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "gemeinde", "service", "status"], name="submission_tally_key"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.month:%Y-%m} {self.gemeinde_id}/{self.service_id} {self.status}: {self.count}"
        )


class ServiceTally(models.Model):
    """The same counts without the Gemeinde: submissions per month, service and status.

    What the statewide month table reads: a few dozen rows a month, where the
    per-Gemeinde tally has thousands.
    """

    month = models.DateField()
    service = models.ForeignKey("forms_catalog.Service", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "service", "status"], name="service_tally_key")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.service_id} {self.status}: {self.count}"


class DecisionTally(models.Model):
    """Decided submissions (approved or rejected; not withdrawn) per month of the decision
    (local time), service and whole days from submission to decision: the medians'
    histogram (the statistics show the median in whole days)."""

    month = models.DateField()
    service = models.ForeignKey("forms_catalog.Service", on_delete=models.CASCADE, related_name="+")
    days = models.IntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "service", "days"], name="decision_tally_key")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.service_id} {self.days} d: {self.count}"
