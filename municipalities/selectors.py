"""Reads of the municipal reference data: who is responsible, municipality search, local fees."""

from __future__ import annotations

import datetime
import re
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Q, Value, When
from django.utils import timezone

from forms_catalog.models import Service
from municipalities.models import (
    CacheVersion,
    Gemeinde,
    GemeindeAlias,
    LocalFeeParameter,
    Office,
    Postcode,
    ResponsibilityException,
    ResponsibilityRule,
)

# --- Responsibility ------------------------------------------------------------


class NoResponsibleOffice(LookupError):
    """No active office is responsible for the service in the Gemeinde on that day."""

    def __init__(self, *, service: Service, gemeinde: Gemeinde, on_date: datetime.date) -> None:
        self.service = service
        self.gemeinde = gemeinde
        self.on_date = on_date
        super().__init__(
            f"Keine zuständige Behörde für „{service.name_de}“ ({service.slug}) in "
            f"{gemeinde.name} (AGS {gemeinde.ags}) am {on_date:%d.%m.%Y}."
        )


# Hand-written SQL because the ORM form of this query costs ~3 ms of Python per
# call (four nested subqueries compiled each time); this runs in well under 1 ms.
# An exception valid on the day decides alone (an inactive exception office
# means: nobody, not the rule's office); otherwise the newest valid rule's
# level picks the Kreis's or the Verband's office (both one-to-one).
# The columns are named, not `o.*`: the statement is prepared once per connection
# (DATABASE_PREPARED_STATEMENTS), and a prepared result must not change when a
# migration adds a column to the table.
_RESOLVE_SQL = f"""
WITH exc AS (
    SELECT office_id FROM {ResponsibilityException._meta.db_table}
    WHERE service_id = %(service)s AND gemeinde_id = %(gemeinde)s
      AND valid_from <= %(day)s AND (valid_to IS NULL OR valid_to >= %(day)s)
    ORDER BY valid_from DESC, id DESC LIMIT 1
), rule AS (
    SELECT level FROM {ResponsibilityRule._meta.db_table}
    WHERE service_id = %(service)s
      AND valid_from <= %(day)s AND (valid_to IS NULL OR valid_to >= %(day)s)
    ORDER BY valid_from DESC, id DESC LIMIT 1
)
SELECT {", ".join(f'o."{field.column}"' for field in Office._meta.concrete_fields)}
FROM {Office._meta.db_table} o
WHERE o.is_active AND (
    o.id = (SELECT office_id FROM exc)
    OR (NOT EXISTS (SELECT 1 FROM exc) AND (
        (o.kreis_id = %(kreis)s AND (SELECT level FROM rule) = %(kreis_level)s)
        OR (o.verband_id = %(verband)s AND (SELECT level FROM rule) = %(municipal_level)s)
    ))
)
ORDER BY o.id LIMIT 1
"""  # noqa: S608 - table names from model metadata, values as parameters


def responsible_office(
    *, service: Service, gemeinde: Gemeinde, on_date: datetime.date | None = None
) -> Office:
    """The office responsible for `service` in `gemeinde` on `on_date` (default: today).

    The one resolver every part of the portal uses. A valid exception for the
    Gemeinde wins; otherwise the service's rule valid on that day names the
    level (municipal administration = the office of the Gemeinde's Verband,
    or the office of its Kreis). Exactly one SQL query, no cache (so never
    stale). Raises NoResponsibleOffice if nothing (active) is responsible.
    """
    day = on_date or timezone.localdate()
    params = {
        "service": service.pk,
        "gemeinde": gemeinde.pk,
        "kreis": gemeinde.kreis_id,
        "verband": gemeinde.verband_id,
        "day": day,
        "kreis_level": ResponsibilityRule.Level.KREIS.value,
        "municipal_level": ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION.value,
    }
    office = next(iter(Office.objects.raw(_RESOLVE_SQL, params)), None)
    if office is None:
        raise NoResponsibleOffice(service=service, gemeinde=gemeinde, on_date=day)
    return office


def current_gemeinden():
    return Gemeinde.objects.current().select_related("kreis", "verband").order_by("ags")


def active_services():
    return Service.objects.filter(is_active=True).order_by("sort_order", "name_de")


@dataclass(frozen=True)
class RoutingRow:
    gemeinde: Gemeinde
    service: Service
    office: Office | None
    problem: str = ""


def routing_rows(
    *, services: list[Service] | None = None, on_date: datetime.date | None = None
) -> list[RoutingRow]:
    """Every current Gemeinde × service with its office (or the problem), via the resolver."""
    services = list(active_services()) if services is None else services
    rows = []
    for gemeinde in current_gemeinden():
        for service in services:
            try:
                office = responsible_office(service=service, gemeinde=gemeinde, on_date=on_date)
                rows.append(RoutingRow(gemeinde, service, office))
            except NoResponsibleOffice as exc:
                rows.append(RoutingRow(gemeinde, service, None, str(exc)))
    return rows


# --- Municipality search -------------------------------------------------------

MAX_QUERY_LENGTH = 100
MIN_TYPO_LENGTH = 4
_UMLAUTS_LONG = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_UMLAUTS_SHORT = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_IGNORED_WORDS = {"stadt"}


def _fold(text: str, table: dict) -> str:
    text = text.lower().translate(table)
    # Other accents (é, č): keep the base letter.
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = [w for w in _NOT_WORD.split(text) if w and w not in _IGNORED_WORDS]
    return " ".join(words)


def normalize_name(text: str) -> str:
    """'Saalfeld/Saale, Stadt' → 'saalfeld saale'; 'Gößnitz' → 'goessnitz'."""
    return _fold(text, _UMLAUTS_LONG)


def _name_keys(name: str) -> tuple[str, ...]:
    """Forms of a name a query is matched against: with umlauts as ae/oe/ue and as a/o/u,
    each from every word start ('bad salzungen' and 'salzungen')."""
    keys: list[str] = []
    for folded in {_fold(name, _UMLAUTS_LONG), _fold(name, _UMLAUTS_SHORT)}:
        words = folded.split(" ")
        keys.extend(" ".join(words[i:]) for i in range(len(words)))
    return tuple(dict.fromkeys(keys))


def _prefix_within_one_edit(query: str, key: str) -> bool:
    """True if `query` is at most one edit (substitution, insertion, deletion or
    transposition) away from some prefix of `key`. Linear time."""
    limit = min(len(query), len(key))
    i = 0
    while i < limit and query[i] == key[i]:
        i += 1
    if i == len(query):
        return True
    return (
        key.startswith(query[i + 1 :], i + 1)  # substitution
        or key.startswith(query[i + 1 :], i)  # an extra character in the query
        or key.startswith(query[i:], i + 1)  # a missing character in the query
        or (
            i + 1 < len(query)
            and i + 1 < len(key)
            and query[i] == key[i + 1]
            and query[i + 1] == key[i]
            and key.startswith(query[i + 2 :], i + 2)
        )
    )


@dataclass(frozen=True)
class SearchHit:
    """One Gemeinde found, and why: by its own name (`alias_kind` empty), as
    the Gemeinde an Ortsteil belongs to, or as the successor of a former one
    (`matched_name` is then that Ortsteil's or former Gemeinde's name)."""

    gemeinde: Gemeinde
    matched_name: str = ""
    alias_kind: str = ""


@dataclass(frozen=True)
class _Entry:
    gemeinde: Gemeinde
    hit: SearchHit
    exact: str
    full: tuple[str, ...]
    keys: tuple[str, ...]
    rank: tuple


@dataclass(frozen=True)
class _Index:
    token: str | None
    day: datetime.date
    entries: tuple[_Entry, ...]
    by_postcode: dict[str, tuple[Gemeinde, ...]]


_index: _Index | None = None
_index_lock = threading.Lock()


def _data_token() -> str | None:
    return (
        CacheVersion.objects.filter(name="municipalities:data-version")
        .values_list("token", flat=True)
        .first()
    )


def _search_index() -> _Index:
    """The in-process index of current Gemeinden, rebuilt when the data token
    (changed by every import, see services.municipal_data_changed) or the day changes."""
    global _index
    token, day = _data_token(), timezone.localdate()
    index = _index
    if index is not None and index.token == token and index.day == day:
        return index
    with _index_lock:
        gemeinden = list(Gemeinde.objects.valid_on(day).select_related("kreis", "verband"))
        by_id = {g.pk: g for g in gemeinden}
        named = [(g.name, SearchHit(gemeinde=g)) for g in gemeinden]
        # Ortsteile and former names of current Gemeinden; an alias of a
        # Gemeinde that no longer exists is simply not found.
        for name, gemeinde_id, kind in (
            GemeindeAlias.objects.valid_on(day)
            .filter(gemeinde_id__in=by_id)
            .order_by("name", "pk")
            .values_list("name", "gemeinde_id", "kind")
        ):
            named.append((name, SearchHit(by_id[gemeinde_id], name, kind)))
        entries = tuple(
            _Entry(
                gemeinde=hit.gemeinde,
                hit=hit,
                exact=normalize_name(name),
                full=(normalize_name(name), _fold(name, _UMLAUTS_SHORT)),
                keys=_name_keys(name),
                # Same score: the Gemeinde's own name before an alias, then the larger.
                rank=(bool(hit.alias_kind), -(hit.gemeinde.population or 0), name),
            )
            for name, hit in named
        )
        by_postcode: dict[str, list[Gemeinde]] = {}
        for code, gemeinde_id in Postcode.objects.filter(gemeinde__in=gemeinden).values_list(
            "code", "gemeinde_id"
        ):
            by_postcode.setdefault(code, []).append(by_id[gemeinde_id])
        for g in gemeinden:
            # The town hall's postcode from the official file, for Gemeinden the
            # postcode list does not (yet) know.
            if g.town_hall_postcode and g not in by_postcode.get(g.town_hall_postcode, []):
                by_postcode.setdefault(g.town_hall_postcode, []).append(g)
        _index = _Index(
            token=token,
            day=day,
            entries=entries,
            by_postcode={
                code: tuple(sorted(items, key=lambda g: g.name))
                for code, items in sorted(by_postcode.items())
            },
        )
        return _index


def clean_query(query: object) -> str:
    """The query as a bounded single line without control characters."""
    text = query if isinstance(query, str) else ""
    text = "".join(ch if ch.isprintable() else " " for ch in text[: MAX_QUERY_LENGTH * 4])
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def is_postcode_query(query: str) -> bool:
    return bool(re.fullmatch(r"\d{1,5}", clean_query(query).replace(" ", "")))


def search_gemeinden(*, query: str, limit: int = 20) -> list[Gemeinde]:
    """Current Gemeinden matching a name or postcode, best first: the Gemeinden
    of `search_gemeinden_hits` (see there), without the reason."""
    return [hit.gemeinde for hit in search_gemeinden_hits(query=query, limit=limit)]


def search_gemeinden_hits(*, query: str, limit: int = 20) -> list[SearchHit]:
    """Current Gemeinden matching a name or postcode, best first, each once with
    the reason it matched.

    Names are the Gemeinde's own and its current aliases (Ortsteile, former
    Gemeinden merged into it); exact and prefix matches of any name come
    before typo-tolerant ones, and a Gemeinde is listed once, for its best
    match (its own name winning a tie).

    Names: prefix of the name or of any of its words, umlauts written as ä, ae
    or a, ', Stadt' and the word 'Stadt' ignored, one typo tolerated from four
    characters on. Postcodes: a complete postcode returns every Gemeinde it
    leads to, even beyond `limit` (a postcode alone cannot choose between
    them); a partial one returns the Gemeinden of matching postcodes.
    Served from an in-process index: one small query to check it is current.
    """
    text = clean_query(query)
    limit = max(0, min(int(limit), 200))
    if not text or not limit:
        return []
    index = _search_index()
    digits = text.replace(" ", "")
    if re.fullmatch(r"\d{1,5}", digits):
        if len(digits) == 5:
            return [SearchHit(g) for g in index.by_postcode.get(digits, ())]
        found: dict[int, Gemeinde] = {}
        for code, gemeinden in index.by_postcode.items():
            if code.startswith(digits):
                for g in gemeinden:
                    found.setdefault(g.pk, g)
        ordered = sorted(found.values(), key=lambda g: (-(g.population or 0), g.name))
        return [SearchHit(g) for g in ordered[:limit]]
    wanted = normalize_name(text)
    if not wanted:
        return []
    typo_ok = len(wanted) >= MIN_TYPO_LENGTH
    scored = []
    for entry in index.entries:
        if entry.exact == wanted:
            score = 0
        elif any(full.startswith(wanted) for full in entry.full):
            score = 1
        elif any(key.startswith(wanted) for key in entry.keys):
            score = 2
        elif typo_ok and any(_prefix_within_one_edit(wanted, key) for key in entry.keys):
            score = 3
        else:
            continue
        scored.append((score, entry.rank, entry.hit))
    scored.sort(key=lambda item: (item[0], item[1]))
    hits: dict[int, SearchHit] = {}
    for _, _, hit in scored:
        hits.setdefault(hit.gemeinde.pk, hit)
        if len(hits) == limit:
            break
    return list(hits.values())


def postcode_candidates(*, code: str) -> list[Gemeinde]:
    """All current Gemeinden a complete postcode leads to."""
    if not re.fullmatch(r"\d{5}", code or ""):
        return []
    return list(_search_index().by_postcode.get(code, ()))


# --- Local fees ----------------------------------------------------------------


def fee_parameters(
    *, service: Service, gemeinde: Gemeinde, on_date: datetime.date | None = None
) -> dict[str, Decimal]:
    """Local fee amounts by key for `service` in `gemeinde` on `on_date` (default today).

    A value set for the Gemeinde wins over one set for its Verband; among
    values of the same level, the one valid from the latest day wins. One query.
    """
    day = on_date or timezone.localdate()
    rows = (
        LocalFeeParameter.objects.valid_on(day)
        .filter(service_id=service.pk)
        .filter(Q(gemeinde_id=gemeinde.pk) | Q(verband_id=gemeinde.verband_id))
        .annotate(
            level=Case(When(gemeinde_id=gemeinde.pk, then=Value(1)), default=Value(0)),
        )
        .order_by("level", "valid_from", "pk")
        .values_list("key", "value")
    )
    return dict(rows)


__all__ = [
    "NoResponsibleOffice",
    "SearchHit",
    "active_services",
    "current_gemeinden",
    "fee_parameters",
    "postcode_candidates",
    "responsible_office",
    "routing_rows",
    "search_gemeinden",
    "search_gemeinden_hits",
]
