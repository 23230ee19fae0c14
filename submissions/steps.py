"""The locked step: the one way every pipeline step claims its row.

A step (1) locks its row with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a
transaction of its own, so two workers never run it at the same time and a
busy row is skipped instead of waited for, (2) asks the state recorded on the
row whether it has anything to do, and (3) records its completion in the same
transaction as its effect. ``locked_step`` does (1) and (2) and offers (3)
as ``LockedStep.complete``; the step's body only does its own work.

A step run by a task first records its ``Claim`` on the row in a short
transaction of its own (so the sweeper can see it while the step runs), and
clears it when the step ends normally; a claim left behind past its expiry
is how a lost task shows (``recovery``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import models, transaction

from .models import SubmissionEvent


class Step(Enum):
    DONE = "done"  # the step ran now or had run before: go on
    BUSY = "busy"  # another worker holds the row: it will go on
    STOPPED = "stopped"  # failed visibly, or nothing to do


@dataclass(frozen=True)
class Claim:
    """A task attempt working on a step: who, since when, and until when at the latest."""

    by: str
    at: datetime.datetime
    expires_at: datetime.datetime


CLAIM_CLEARED = {"claimed_at": None, "claimed_by": "", "claim_expires_at": None}


def claim_record(*, model: type[models.Model], pk: int, claim: Claim, wait: bool = False) -> bool:
    """Record ``claim`` on row ``pk`` unless another transaction holds the row. Commits at once.

    A row held by a running step is left alone: that step's claim stays the
    one that counts, and the caller will find the row busy anyway. With
    ``wait`` the claim waits for the holder's commit instead (see ``locked_step``).
    """
    with transaction.atomic():
        free = model.objects.select_for_update(skip_locked=not wait).filter(pk=pk)
        if free.values_list("pk", flat=True).first() is None:
            return False
        model.objects.filter(pk=pk).update(
            claimed_at=claim.at, claimed_by=claim.by, claim_expires_at=claim.expires_at
        )
    return True


@dataclass
class LockedStep:
    """A claimed row, or the reason the step does not run (``outcome``)."""

    row: Any
    outcome: Step | None

    @property
    def skip(self) -> bool:
        """True if the body must not run: the row is busy, or its state says done/stopped."""
        return self.outcome is not None

    def complete(
        self, *, event: str, at: datetime.datetime, comment: str = "", **fields: Any
    ) -> None:
        """Record the step's completion on the submission row it locked, with its history event.

        Sets ``fields`` and ``pipeline_progress_at = at`` (so the sweeper sees
        progress) and saves only those columns, inside the step's transaction.
        """
        submission = self.row
        for name, value in fields.items():
            setattr(submission, name, value)
        submission.pipeline_progress_at = at
        submission.save(update_fields=[*fields, "pipeline_progress_at"])
        SubmissionEvent.objects.create(submission=submission, kind=event, comment=comment)


@contextmanager
def locked_step(
    queryset: models.QuerySet | models.Manager,
    *,
    pk: int,
    skip: Callable[[Any], Step | None],
    claim: Claim | None = None,
    wait: bool = False,
) -> Iterator[LockedStep]:
    """Open a transaction, lock row ``pk`` of ``queryset`` and decide whether the step runs.

    ``skip(row)`` reads the recorded state and returns the outcome for a step
    that must not run (``Step.DONE`` if recorded as done, ``Step.STOPPED`` if
    it cannot run), or None to run it. A row another transaction holds gives
    ``Step.BUSY`` at once (``SKIP LOCKED``): its holder goes on. The body runs
    inside the transaction, so what it records commits together with the lock's
    release, and an exception rolls all of it back.

    With a ``claim`` (a task's), the claim is committed on the row first and
    cleared when the body ends without an exception, in its transaction. An
    exception leaves the claim to expire: a task that retries claims again,
    otherwise the sweeper redoes the step once the claim has expired.

    ``wait=True`` waits for a row another transaction holds instead of
    answering ``Step.BUSY``: for a step that runs in parallel with short
    bookkeeping transactions on the same row (the citizen's e-mail next to
    the deliveries recording their success), where a retry would cost a
    second or so of latency and a task hand-off for a lock held milliseconds.
    """
    model = queryset.model
    if claim is not None:
        claim_record(model=model, pk=pk, claim=claim, wait=wait)
    with transaction.atomic():
        row = queryset.select_for_update(skip_locked=not wait, of=("self",)).filter(pk=pk).first()
        yield LockedStep(row=row, outcome=Step.BUSY if row is None else skip(row))
        if row is not None and claim is not None:
            # Any claim on the row ends with this step: it held the row, so no
            # other step of the row was running meanwhile.
            model.objects.filter(pk=pk).update(**CLAIM_CLEARED)
