"""Server-side drafts of the citizen's application: creation, resume tokens, step data, expiry.

A draft is reachable in two ways only: from the browser session that created
or resumed it (its id is listed in the session), or through the resume link,
whose token is never stored (only its SHA-256).
"""

from __future__ import annotations

import datetime
import functools
import secrets
import uuid
import weakref
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import compiled_form
from municipalities.models import Gemeinde
from submissions.models import Attachment, Draft

from .resume_links import resume_nonce_new, resume_token_derive, resume_token_hash

# A purged draft's token hash is replaced by this marker plus a random value,
# so its resume link stops working and the purge is not repeated.
PURGED_DRAFT_MARKER = "purged-"

SESSION_KEY = "portal_drafts"
# Where a draft keeps a step's unfinished input: the keys are those of the
# formtools storage the wizard once used, so drafts started before still resume.
UNFINISHED_KEY = "wizard"
UNFINISHED_STEPS_KEY = "step_data"
# token_hash of a purged draft: never a SHA-256 hex digest, so no token can match it.
PURGED_DRAFT_MARKER = "purged-"
# Tokens have 256 bits of entropy; anything longer than this is not one of ours.
MAX_TOKEN_LENGTH = 100
# Positions a signed 64-bit `steps_reached` can mark (bit 63 would make it negative).
MAX_RECORDED_STEP = 62
# A field key is at most "<group id>.<field id>" (63 characters each in the definition schema).
MAX_FIELD_KEY_CHARS = 127
# Bound of a draft's failure counts (an index entry holds at most 2,704 bytes).
MAX_FIELD_ERRORS_BYTES = 2000


def _hash_token(token: str) -> str:
    return resume_token_hash(token)


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _expiry(now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    return now + datetime.timedelta(days=settings.PORTAL_DRAFT_LIFETIME_DAYS)


def draft_create(
    *, service: Service, gemeinde: Gemeinde, version: FormVersion, language: str
) -> Draft:
    """Start a draft pinned to `version`: the citizen finishes on it even if a newer one appears."""
    draft = Draft(
        token_hash=_hash_token(_new_token()),
        service=service,
        gemeinde=gemeinde,
        form_version=version,
        language=language[:8],
        data={},
        expires_at=_expiry(),
    )
    # The wizard opens on the first step visible without answers: it counts as reached.
    visible = compiled_form(version=version).visible_step_ids({})
    if visible:
        draft_step_reached(draft=draft, position=draft_step_position(draft=draft, step=visible[0]))
    draft.save(force_insert=True)
    return draft


def draft_issue_resume_token(*, draft: Draft) -> str:
    """Return a new resume token for the draft; earlier resume links stop working."""
    return draft_issue_resume_link(draft=draft)[0]


def draft_issue_resume_link(*, draft: Draft) -> tuple[str, str]:
    """Issue a new resume token; returns (token, nonce). Earlier resume links stop working.

    The token goes into the link shown to the citizen; the nonce (useless
    without the server key) is what the mail task gets to rebuild it.
    """
    nonce = resume_nonce_new()
    token = resume_token_derive(draft_id=draft.id, nonce=nonce)
    draft.token_hash = _hash_token(token)
    draft.expires_at = _expiry()
    draft.save(update_fields=["token_hash", "expires_at", "updated_at"])
    return token, nonce


def draft_find_by_token(*, token: str) -> Draft | None:
    """The open (not submitted, not expired) draft a resume token belongs to, or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        Draft.objects.select_related("service", "gemeinde", "form_version")
        .filter(
            token_hash=_hash_token(token),
            submitted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def draft_grant_session(*, request: HttpRequest, draft: Draft) -> None:
    """Let this browser session work on the draft."""
    allowed = list(request.session.get(SESSION_KEY, []))
    draft_id = str(draft.id)
    if draft_id not in allowed:
        # A session keeps the last few drafts only, so it cannot grow without bound.
        allowed = [*allowed[-9:], draft_id]
        request.session[SESSION_KEY] = allowed


def draft_for_session(*, request: HttpRequest, draft_id: object) -> Draft | None:
    """The open draft with this id if this session may work on it, else None."""
    draft_id = str(draft_id)
    if draft_id not in request.session.get(SESSION_KEY, []):
        return None
    return _open_draft_joined(draft_id=draft_id)


# Every wizard, check-page and attachment request looks its draft up, so the lookup is
# one query written once (`_DraftLookup`) instead of a `select_related` the ORM compiles
# anew on every request: that compilation (three joins, about 45 columns) cost more CPU
# than the rest of a valid step POST. The rows become model instances exactly as the
# ORM would make them (the fields' own converters, `Model.from_db`, the related rows
# cached on the draft).
#
# The version's `definition` (10-20 KB of JSON, compressed in the table) is read only
# where compiled_form needs it on every call: a version still in draft or without a
# checksum (forms_catalog.selectors.compiled_form keys its cache on id and checksum).
# A published version's compiled form is cached, so reading, sending and decoding its
# definition on every request was wasted; it is a deferred field then (loaded with one
# query by whatever reads it: a cache miss).


class _DraftLookup:
    """The SQL of the joined draft lookup and how to turn its row into instances."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        meta = Draft._meta
        # (model, attnames, number of columns) per joined table, in SELECT order.
        self.parts: list[tuple[type[models.Model], list[str], int]] = []
        self.cols: list[Any] = []
        columns: list[str] = []
        joins: list[str] = []
        for alias, model, link in (
            ("d", Draft, None),
            ("s", Service, "service"),
            ("g", Gemeinde, "gemeinde"),
            ("v", FormVersion, "form_version"),
        ):
            fields = [
                f
                for f in model._meta.concrete_fields
                if not (model is FormVersion and f.attname == "definition")
            ]
            self.parts.append((model, [f.attname for f in fields], len(fields)))
            self.cols += [f.get_col(alias) for f in fields]
            columns += [f"{alias}.{quote(f.column)}" for f in fields]
            if link is not None:
                fk = meta.get_field(link)
                joins.append(
                    f"INNER JOIN {quote(model._meta.db_table)} {alias} "
                    f"ON {alias}.{quote(fk.target_field.column)} = d.{quote(fk.column)}"
                )
        definition = FormVersion._meta.get_field("definition")
        self.definition_col = definition.get_col("v")
        columns.append(
            f"CASE WHEN v.{quote('status')} = %s OR v.{quote('checksum')} = '' "
            f"THEN v.{quote(definition.column)} END"
        )
        column = {
            name: quote(meta.get_field(name).column) for name in ("submitted_at", "expires_at")
        }
        # Names come from the models' metadata; the values are parameters.
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} d {' '.join(joins)} "  # noqa: S608
            f"WHERE d.{quote(meta.pk.column)} = %s AND d.{column['submitted_at']} IS NULL "
            f"AND d.{column['expires_at']} > %s"
        )
        self._converters: weakref.WeakKeyDictionary[
            BaseDatabaseWrapper, list[tuple[int, list[Callable[..., Any]]]]
        ] = weakref.WeakKeyDictionary()

    def converters(self, conn: BaseDatabaseWrapper) -> list[tuple[int, list[Callable[..., Any]]]]:
        """[(column index, converters)] of the columns that need converting on `conn`, as
        the ORM's compiler collects them: the backend's, then the field's (JSON decoding)."""
        found = self._converters.get(conn)
        if found is None:
            found = []
            for index, col in enumerate([*self.cols, self.definition_col]):
                converters = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
                if converters:
                    found.append((index, converters))
            self._converters[conn] = found
        return found

    def fetch(self, *, draft_id: str) -> Draft | None:
        conn = connections[DEFAULT_DB_ALIAS]
        pk = Draft._meta.pk
        params = [
            FormVersion.Status.DRAFT.value,
            pk.get_db_prep_value(pk.to_python(draft_id), conn),
            conn.ops.adapt_datetimefield_value(timezone.now()),
        ]
        with conn.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        cols = [*self.cols, self.definition_col]
        for index, converters in self.converters(conn):
            for convert in converters:
                values[index] = convert(values[index], cols[index], conn)
        instances = []
        start = 0
        for model, attnames, count in self.parts:
            instances.append(model.from_db(conn.alias, attnames, values[start : start + count]))
            start += count
        draft, *related = instances
        if row[-1] is not None:  # a definition compiled_form reads on every call
            related[-1].definition = values[-1]
        for name, instance in zip(("service", "gemeinde", "form_version"), related, strict=True):
            Draft._meta.get_field(name).set_cached_value(draft, instance)
        return draft


@functools.cache
def _draft_lookup() -> _DraftLookup:
    return _DraftLookup()


def _open_draft_joined(*, draft_id: str) -> Draft | None:
    """The open (not submitted, not expired) draft with its service, Gemeinde and version."""
    return _draft_lookup().fetch(draft_id=draft_id)


# What a step save writes (the funnel's fields with it).
STEP_SAVE_FIELDS = (
    "data",
    "current_step",
    "expires_at",
    "steps_reached",
    "furthest_step",
    "updated_at",
)


def draft_save_data(*, draft: Draft, data: dict, current_step: str) -> None:
    """Store the wizard's step data; every save extends the draft's life.

    Also stores the funnel's reached steps (`draft_step_reached`) in the same UPDATE.
    """
    draft.data = data
    draft.current_step = current_step[:100]
    draft.expires_at = _expiry()
    _draft_update(draft=draft, fields=STEP_SAVE_FIELDS)


@functools.cache
def _update_sql(fields: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    meta = Draft._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in fields)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608 - names from the model's metadata


def _draft_update(*, draft: Draft, fields: tuple[str, ...]) -> None:
    """`draft.save(update_fields=fields)` without compiling the UPDATE on every request.

    The values are prepared as `save()` prepares them (`pre_save`: `updated_at`'s
    auto_now; `get_db_prep_save`: JSON). Draft has no save() override and nothing
    listens to its save signals (DESIGN: no logic in signals), so nothing is skipped.
    Like `save(update_fields=...)`, a draft whose row is gone raises DatabaseError.
    """
    conn = connections[DEFAULT_DB_ALIAS]
    meta = Draft._meta
    values = []
    for name in fields:
        field = meta.get_field(name)
        values.append(field.get_db_prep_save(field.pre_save(draft, False), conn))
    values.append(meta.pk.get_db_prep_value(draft.pk, conn))
    with conn.cursor() as cursor:
        cursor.execute(_update_sql(fields), values)
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def draft_step_position(*, draft: Draft, step: str | None) -> int | None:
    """The funnel position of `step` in the draft's version; None (the check page) gives the
    position after the last step; an id the version does not have gives None."""
    step_ids = compiled_form(version=draft.form_version).step_ids()
    if step is None:
        return len(step_ids)
    return step_ids.index(step) if step in step_ids else None


def draft_step_reached(*, draft: Draft, position: int | None) -> None:
    """Record in memory that the citizen was shown the step at `position` (funnel statistics).

    The caller saves the draft (`draft_save_data` stores these fields with the step).
    """
    if position is None or position < 0:
        return
    if position <= MAX_RECORDED_STEP:
        draft.steps_reached = (draft.steps_reached or 0) | (1 << position)
    if draft.furthest_step is None or position > draft.furthest_step:
        draft.furthest_step = position


def draft_field_errors_record(*, draft: Draft, field_keys: list[str]) -> None:
    """Add one refused post to the funnel's failure count of each field in `field_keys`.

    One UPDATE that adds in the database, so two posts at once both count and
    the draft's other columns (saved before, from memory) are not touched.
    Keys are the definition's ids ("field", "group.field"): no answers. The
    counts stop growing once they would take more than `MAX_FIELD_ERRORS_BYTES`
    (only a draft with failures in dozens of fields gets there), so the row
    always fits its covering index.
    """
    keys = sorted({key[:MAX_FIELD_KEY_CHARS] for key in field_keys if key})
    if not keys:
        return
    added = """(SELECT jsonb_object_agg(k, COALESCE((field_errors ->> k)::integer, 0) + 1)
               FROM unnest(%s::text[]) AS k)"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Draft._meta.db_table} SET field_errors = field_errors || {added}
            WHERE id = %s AND pg_column_size(field_errors || {added}) <= %s
            """,  # noqa: S608 - the table name and the expression are ours; values are parameters
            [keys, draft.id, keys, MAX_FIELD_ERRORS_BYTES],
        )


def draft_unfinished_input(*, draft: Draft, step: str) -> MultiValueDict | None:
    """What was typed into `step` but not yet accepted (raw POST data), or None."""
    kept = draft.data.get(UNFINISHED_KEY)
    steps = kept.get(UNFINISHED_STEPS_KEY) if isinstance(kept, dict) else None
    values = steps.get(step) if isinstance(steps, dict) else None
    return MultiValueDict(values) if isinstance(values, dict) else None


def draft_keep_unfinished_input(*, draft: Draft, step: str, data: dict[str, list[str]]) -> None:
    """Keep `data` (a bounded, JSON-safe copy of a step's POST) in the draft, in memory.

    The caller saves the draft (`draft_save_data`).
    """
    kept = draft.data.get(UNFINISHED_KEY)
    if not isinstance(kept, dict) or not isinstance(kept.get(UNFINISHED_STEPS_KEY), dict):
        kept = {UNFINISHED_STEPS_KEY: {}}
        draft.data[UNFINISHED_KEY] = kept
    kept[UNFINISHED_STEPS_KEY][step] = data


def draft_clear_unfinished_input(*, draft: Draft, step: str) -> None:
    """Forget a step's unfinished input once the step is accepted (in memory; caller saves)."""
    kept = draft.data.get(UNFINISHED_KEY)
    if isinstance(kept, dict) and isinstance(kept.get(UNFINISHED_STEPS_KEY), dict):
        kept[UNFINISHED_STEPS_KEY].pop(step, None)


def draft_step_accept(*, draft: Draft, step: str, answers: dict) -> None:
    """Record a valid step: the merged `answers`, the step done, its unfinished input gone.

    In memory only: the caller saves the draft (`draft_save_data`) with the step to show next.
    """
    draft.data["answers"] = answers
    draft_clear_unfinished_input(draft=draft, step=step)
    done = [s for s in draft.data.get("done", []) if s != step]
    draft.data["done"] = [*done, step]
    draft.data["show_errors"] = [s for s in draft.data.get("show_errors", []) if s != step]


def draft_step_reopen(*, draft: Draft, step: str) -> None:
    """Mark a stored step as not done and to be shown with its errors; saves the draft."""
    shown = [s for s in draft.data.get("show_errors", []) if s != step]
    draft.data["show_errors"] = [*shown, step]
    draft.data["done"] = [s for s in draft.data.get("done", []) if s != step]
    draft_save_data(draft=draft, data=draft.data, current_step=step)


def draft_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Purge expired drafts: delete the files only they refer to and every answer.

    The row itself stays as an anonymous record (no answers, no e-mail, no
    usable token) so that the back office can still count started drafts.
    This is the only purge of drafts (task `purge_expired_drafts`, command
    `purge_expired_drafts`). Files already taken over by a submission are
    kept. Idempotent; returns the number of drafts purged.
    """
    now = now or timezone.now()
    expired_ids = list(
        Draft.objects.filter(expires_at__lte=now)
        .exclude(token_hash__startswith=PURGED_DRAFT_MARKER)
        .values_list("id", flat=True)
    )
    for draft_id in expired_ids:
        with transaction.atomic():
            draft = Draft.objects.select_for_update().filter(id=draft_id).first()
            if draft is None or draft.token_hash.startswith(PURGED_DRAFT_MARKER):
                continue
            orphans = list(Attachment.objects.filter(draft=draft, submission__isnull=True))
            Attachment.objects.filter(id__in=[a.id for a in orphans]).delete()
            Attachment.objects.filter(draft=draft).update(draft=None)
            draft.data = {}
            draft.email = ""
            draft.current_step = ""
            draft.token_hash = f"{PURGED_DRAFT_MARKER}{uuid.uuid4().hex}"
            draft.save(update_fields=["data", "email", "current_step", "token_hash", "updated_at"])
        # Files go only once their rows are gone for good.
        for attachment in orphans:
            if attachment.file:
                attachment.file.storage.delete(attachment.file.name)
    return len(expired_ids)


def draft_language_remember(*, draft: Draft, language: str) -> None:
    """Record the language the citizen now uses for the draft, if it is a portal language.

    Called on every wizard page, so switching language mid-way is remembered too; an
    unknown code is ignored and the stored one kept. Writes only when it changes.
    """
    code = (language or "")[:8]
    if code == draft.language or code not in dict(settings.LANGUAGES):
        return
    draft.language = code
    Draft.objects.filter(pk=draft.pk).update(language=code)


def draft_language_get(*, draft: Draft) -> str | None:
    """The portal language the draft was last filled in, or None when it holds no valid code."""
    code = (draft.language or "")[:8]
    return code if code in dict(settings.LANGUAGES) else None
