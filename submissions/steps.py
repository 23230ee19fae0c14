"""The locked step: the one way every pipeline step claims its row.

A step (1) locks its row with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a
transaction of its own, so two workers never run it at the same time and a
busy row is skipped instead of waited for, (2) asks the state recorded on the
row whether it has anything to do, and (3) records its completion in the same
transaction as its effect. ``locked_step`` does (1) and (2) and offers (3)
as ``LockedStep.complete``; the step's body only does its own work.

A step run by a task first records its ``Claim`` on the row in one statement
committed on its own (so the sweeper can see it while the step runs), and
clears it when the step ends normally, in the step's own ``UPDATE``; a claim
left behind past its expiry is how a lost task shows (``recovery``).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import connection, models, transaction

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


# The claim columns, in the order ``claim_record`` writes them, and their cleared values.
CLAIM_CLEARED = {"claimed_at": None, "claimed_by": "", "claim_expires_at": None}


@functools.cache
def _claim_sql(model: type[models.Model], *, wait: bool) -> str:
    """``UPDATE`` of the claim columns of one row, as one statement (names from the model).

    One statement in autocommit instead of a transaction with a locking
    ``SELECT`` and an ``UPDATE``: every pipeline task makes a claim, so its
    round trips and commits are a good part of what the database does per
    submission. The ORM cannot say it (it allows ``FOR UPDATE`` only inside
    a transaction), hence SQL; names come from the model's metadata, values
    are parameters. Built once per model and mode.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in CLAIM_CLEARED)
    if wait:
        # A plain UPDATE waits for a holder's commit by itself.
        return f"UPDATE {table} SET {columns} WHERE {pk} = %s"  # noqa: S608 - names from the model
    locked = f"SELECT {pk} FROM {table} WHERE {pk} = %s FOR UPDATE SKIP LOCKED"  # noqa: S608
    return f"UPDATE {table} SET {columns} WHERE {pk} = ({locked})"  # noqa: S608 - as above


def claim_record(*, model: type[models.Model], pk: int, claim: Claim, wait: bool = False) -> bool:
    """Record ``claim`` on row ``pk`` unless another transaction holds the row. Commits at once.

    A row held by a running step is left alone: that step's claim stays the
    one that counts, and the caller will find the row busy anyway. With
    ``wait`` the claim waits for the holder's commit instead (see ``locked_step``).
    Outside a transaction the claim commits by itself (autocommit).
    """
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(model, wait=wait), [claim.at, claim.by, claim.expires_at, pk])
        return cursor.rowcount == 1


@dataclass
class LockedStep:
    """A claimed row, or the reason the step does not run (``outcome``)."""

    row: Any
    outcome: Step | None
    # A task's claim is on the row and ends with this step (see ``claim_cleared``).
    claimed: bool = False

    @property
    def skip(self) -> bool:
        """True if the body must not run: the row is busy, or its state says done/stopped."""
        return self.outcome is not None

    def claim_cleared(self) -> list[str]:
        """Clear the claim on the row in memory and name its columns, for the body's own save.

        The claim then ends in the ``UPDATE`` that records the step instead of
        one of its own. Any claim on the row ends with this step: it held the
        row, so no other step of the row was running meanwhile.
        """
        if not self.claimed:
            return []
        for name, value in CLAIM_CLEARED.items():
            setattr(self.row, name, value)
        self.claimed = False
        return list(CLAIM_CLEARED)

    def complete(
        self,
        *,
        event: str,
        at: datetime.datetime,
        comment: str = "",
        events: Sequence[SubmissionEvent] = (),
        **fields: Any,
    ) -> None:
        """Record the step's completion on the submission row it locked, with its history event.

        Sets ``fields`` and ``pipeline_progress_at = at`` (so the sweeper sees
        progress), clears the claim, and saves only those columns, inside the
        step's transaction; then inserts the step's event and any further
        ``events`` of the same step in one statement.
        """
        submission = self.row
        for name, value in fields.items():
            setattr(submission, name, value)
        submission.pipeline_progress_at = at
        submission.save(update_fields=[*fields, "pipeline_progress_at", *self.claim_cleared()])
        SubmissionEvent.objects.bulk_create(
            [SubmissionEvent(submission=submission, kind=event, comment=comment), *events]
        )


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
    release, and an exception rolls all of it back. Only the row of
    ``queryset``'s model is locked; rows it selects related come along unlocked.

    With a ``claim`` (a task's), the claim is committed on the row first and
    cleared when the body ends without an exception, in its transaction (by
    the body's own save through ``LockedStep.claim_cleared``/``complete``, or
    else by an ``UPDATE`` at the end). An exception leaves the claim to
    expire: a task that retries claims again, otherwise the sweeper redoes
    the step once the claim has expired.

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
        step = LockedStep(
            row=row,
            outcome=Step.BUSY if row is None else skip(row),
            claimed=row is not None and claim is not None,
        )
        yield step
        if step.claimed:
            model.objects.filter(pk=pk).update(**CLAIM_CLEARED)
