"""Writes to the municipal reference data: imports, default offices, responsibility.

Every function here that changes data the search index or the routing
depends on bumps the data version (`municipal_data_changed`), so the
per-process caches in `selectors` rebuild on their next use.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Model

from forms_catalog.models import Service
from municipalities.importers.gv100ad import Edition, GemeindeRecord, VerbandRecord
from municipalities.models import (
    CacheVersion,
    DataEdition,
    Gemeinde,
    GemeindeAlias,
    Gemeindeverband,
    Kreis,
    Land,
    Office,
    Postcode,
    ResponsibilityException,
    ResponsibilityRule,
)

DATA_VERSION_KEY = "municipalities:data-version"
# A newer edition that would retire more than this share of the current
# Gemeinden, or any Kreis, is far more likely a damaged file than a reform.
MAX_RETIRED_SHARE = 0.10


class ImportRefused(Exception):
    """The data cannot be applied; nothing was changed. The message says why."""


def municipal_data_changed() -> None:
    """Invalidate the in-process caches built from municipal data (search index).

    Call inside the writing transaction: the token commits or rolls back with it.
    """
    CacheVersion.objects.update_or_create(
        name=DATA_VERSION_KEY, defaults={"token": uuid.uuid4().hex}
    )


def _apply(instance: Model, values: dict[str, Any]) -> bool:
    """Set changed attributes only; True if anything changed (and was saved)."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.save(update_fields=changed)
    return bool(changed)


def _plain_name(name: str) -> str:
    """'Eisenberg, Stadt' → 'Eisenberg': the name people use."""
    return re.sub(r",\s*(Stadt|Gemeinde|Kurort|Flecken)$", "", name).strip()


def _match_key(name: str) -> str:
    return re.sub(r"[^a-z0-9äöüß]", "", _plain_name(name).lower())


def serving_gemeinde_record(edition: Edition, verband: VerbandRecord) -> GemeindeRecord | None:
    """The member Gemeinde whose administration serves a verbandsfreie or erfüllende Gemeinde.

    The Sitz field names it ('Uder'), but not always verbatim ('Eisenberg/Thür.'
    for 'Eisenberg, Stadt', 'Elxleben a. d. Gera', or an Ortsteil such as
    'Crock' for Auengrund), so try Sitz, then the Verband's own name, then a
    prefix of the Sitz. Returns None for a Verwaltungsgemeinschaft.
    """
    if verband.kind == Gemeindeverband.Kind.VERWALTUNGSGEMEINSCHAFT:
        return None
    members = edition.members(verband.key)
    if len(members) == 1:
        return members[0]
    by_key = {_match_key(m.name): m for m in members}
    for candidate in (verband.seat, re.sub(r"^EG\s+", "", verband.name)):
        if candidate and _match_key(candidate) in by_key:
            return by_key[_match_key(candidate)]
    seat = _match_key(verband.seat)
    prefixed = [m for key, m in by_key.items() if key and seat.startswith(key)]
    if len(prefixed) == 1:
        return prefixed[0]
    return None


def default_office_name(
    *, verband: Gemeindeverband | None = None, kreis: Kreis | None = None
) -> str:
    """The name people know the administration by ("VG Leinetal", "Landratsamt Ilm-Kreis")."""
    if kreis is not None:
        if kreis.kind == Kreis.Kind.KREISFREIE_STADT:
            return f"Stadtverwaltung {_plain_name(kreis.name)}"
        return f"Landratsamt {kreis.name}"
    assert verband is not None
    if verband.kind == Gemeindeverband.Kind.VERWALTUNGSGEMEINSCHAFT:
        return f"VG {verband.name}"
    serving = verband.serving_gemeinde
    name = _plain_name(serving.name if serving else re.sub(r"^EG\s+", "", verband.name))
    if serving is not None and serving.kind in (
        Gemeinde.Kind.STADT,
        Gemeinde.Kind.KREISFREIE_STADT,
    ):
        return f"Stadtverwaltung {name}"
    if serving is None and verband.name.endswith(", Stadt"):
        return f"Stadtverwaltung {name}"
    return f"Gemeindeverwaltung {name}"


@dataclass
class ImportResult:
    gebietsstand: datetime.date
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    retired: Counter = field(default_factory=Counter)
    reactivated: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            sum(c.values()) for c in (self.created, self.updated, self.retired, self.reactivated)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "gebietsstand": self.gebietsstand.isoformat(),
            "created": dict(self.created),
            "updated": dict(self.updated),
            "retired": dict(self.retired),
            "reactivated": dict(self.reactivated),
            "warnings": self.warnings,
        }


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gv100ad_apply(
    *, edition: Edition, file_name: str = "", sha256: str = "", force: bool = False
) -> ImportResult:
    """Apply one GV100AD edition in ONE transaction: all or nothing.

    Idempotent: applying the same edition again changes no row. A newer
    edition adds new keys (valid from its Gebietsstand), retires vanished
    ones (valid_to = the day before) and never deletes: submissions and
    drafts keep pointing at retired Gemeinden. An older edition than the
    newest applied one is refused. Creates the default offices.
    """
    with transaction.atomic():
        newest = (
            DataEdition.objects.select_for_update()
            .filter(source=DataEdition.Source.GV100AD, land_key=edition.land_key)
            .order_by("-gebietsstand")
            .first()
        )
        if newest and newest.gebietsstand and edition.gebietsstand < newest.gebietsstand:
            raise ImportRefused(
                f"Die Datei hat den Gebietsstand {edition.gebietsstand:%d.%m.%Y}; importiert ist "
                f"bereits der neuere Stand {newest.gebietsstand:%d.%m.%Y}."
            )
        # The first edition cannot say since when a unit exists: keep the
        # model's default; later editions date new units by their Gebietsstand.
        new_from = edition.gebietsstand if newest else None
        retire_on = edition.gebietsstand - datetime.timedelta(days=1)
        result = ImportResult(gebietsstand=edition.gebietsstand)

        land, created = Land.objects.get_or_create(
            key=edition.land_key, defaults={"name": edition.land_name}
        )
        if created:
            result.created["land"] += 1
        elif _apply(land, {"name": edition.land_name}):
            result.updated["land"] += 1

        kreise = _sync(
            model=Kreis,
            key_field="key",
            existing=Kreis.objects.filter(key__startswith=edition.land_key),
            records={
                k.key: {"name": k.name, "seat": k.seat, "kind": k.kind, "land_id": land.pk}
                for k in edition.kreise.values()
            },
            label="kreis",
            result=result,
            new_from=new_from,
            retire_on=retire_on,
        )
        known_verbaende = set(
            Gemeindeverband.objects.filter(key__startswith=edition.land_key).values_list(
                "key", flat=True
            )
        )
        verbaende = _sync(
            model=Gemeindeverband,
            key_field="key",
            existing=Gemeindeverband.objects.filter(key__startswith=edition.land_key),
            records={
                v.key: {
                    "name": v.name,
                    "seat": v.seat,
                    "kind": v.kind,
                    "kreis_id": kreise[v.kreis_key].pk,
                }
                for v in edition.verbaende.values()
            },
            label="verband",
            result=result,
            new_from=new_from,
            retire_on=retire_on,
        )
        current_before = Gemeinde.objects.filter(
            ags__startswith=edition.land_key, valid_to__isnull=True
        ).count()
        gemeinden = _sync(
            model=Gemeinde,
            key_field="ags",
            existing=Gemeinde.objects.filter(ags__startswith=edition.land_key),
            records={
                g.ags: {
                    "ars": g.ars,
                    "name": g.name,
                    "kind": g.kind,
                    "kreis_id": kreise[g.kreis_key].pk,
                    "verband_id": verbaende[g.verband_key].pk,
                    "population": g.population,
                    "area_ha": g.area_ha,
                    "town_hall_postcode": g.town_hall_postcode,
                }
                for g in edition.gemeinden.values()
            },
            label="gemeinde",
            result=result,
            new_from=new_from,
            retire_on=retire_on,
        )
        if not force:
            if result.retired["kreis"]:
                raise ImportRefused(
                    f"Die Datei würde {result.retired['kreis']} Kreis(e) auflösen. Das deutet auf "
                    "eine unvollständige Datei hin; wenn es stimmt, mit --force importieren."
                )
            if current_before and result.retired["gemeinde"] > MAX_RETIRED_SHARE * current_before:
                raise ImportRefused(
                    f"Die Datei würde {result.retired['gemeinde']} von {current_before} Gemeinden "
                    "auflösen. Das deutet auf eine unvollständige Datei hin; wenn es stimmt, "
                    "mit --force importieren."
                )

        for record in edition.verbaende.values():
            verband = verbaende[record.key]
            created_now = record.key not in known_verbaende
            serving = serving_gemeinde_record(edition, record)
            if serving is None and record.kind != Gemeindeverband.Kind.VERWALTUNGSGEMEINSCHAFT:
                result.warnings.append(
                    f"{record.name} ({record.key}): verwaltende Gemeinde nicht erkennbar "
                    f"(Sitz {record.seat!r})"
                )
            serving_id = gemeinden[serving.ags].pk if serving else None
            # A Verband created in this run is counted once, as created.
            if _apply(verband, {"serving_gemeinde_id": serving_id}) and not created_now:
                result.updated["verband"] += 1

        offices = _create_default_offices(
            kreise=[kreise[k] for k in edition.kreise],
            verbaende=[verbaende[k] for k in edition.verbaende],
        )
        if offices:
            result.created["office"] += offices
        record, created = DataEdition.objects.get_or_create(
            source=DataEdition.Source.GV100AD,
            land_key=edition.land_key,
            sha256=sha256 or f"gebietsstand-{edition.gebietsstand:%Y%m%d}",
            defaults={
                "gebietsstand": edition.gebietsstand,
                "file_name": file_name[-255:],
                "summary": result.as_dict(),
            },
        )
        if not created and result.changed:
            # Keeps what the edition changed the last time it changed anything.
            record.summary = result.as_dict()
            record.save(update_fields=["summary", "imported_at"])
        if result.changed:
            municipal_data_changed()
    return result


def _sync(
    *,
    model: type[Model],
    key_field: str,
    existing,
    records: dict[str, dict[str, Any]],
    label: str,
    result: ImportResult,
    new_from: datetime.date | None,
    retire_on: datetime.date,
) -> dict[str, Model]:
    """Create, update, reactivate and retire the rows of one level; returns key → row."""
    rows = {getattr(row, key_field): row for row in existing}
    for key, values in records.items():
        row = rows.get(key)
        if row is None:
            extra = {"valid_from": new_from} if new_from else {}
            rows[key] = model.objects.create(**{key_field: key}, **values, **extra)
            result.created[label] += 1
            continue
        if row.valid_to is not None:
            _apply(row, {**values, "valid_to": None})
            result.reactivated[label] += 1
        elif _apply(row, values):
            result.updated[label] += 1
    for key, row in rows.items():
        if key not in records and row.valid_to is None:
            # Never deleted: submissions and drafts keep their reference.
            _apply(row, {"valid_to": max(retire_on, row.valid_from)})
            result.retired[label] += 1
    return rows


def _create_default_offices(*, kreise: list[Kreis], verbaende: list[Gemeindeverband]) -> int:
    """Create the missing default offices. An existing office is never touched (staff edit it)."""
    created = 0
    by_kreis = set(Office.objects.filter(kreis__in=kreise).values_list("kreis_id", flat=True))
    by_verband = set(
        Office.objects.filter(verband__in=verbaende).values_list("verband_id", flat=True)
    )
    city_kreise = {k.pk for k in kreise if k.kind == Kreis.Kind.KREISFREIE_STADT}
    city_verband = {
        v.kreis_id: v
        for v in verbaende
        if v.kreis_id in city_kreise and v.kind == Gemeindeverband.Kind.VERBANDSFREI
    }
    for kreis in kreise:
        if kreis.pk in by_kreis:
            continue
        office = Office(
            name=default_office_name(kreis=kreis),
            kind=Office.Kind.KREIS,
            kreis=kreis,
            city=kreis.seat,
        )
        # A kreisfreie Stadt is one administration for both levels: one office.
        verband = city_verband.get(kreis.pk)
        if verband is not None and verband.pk not in by_verband:
            office.verband = verband
            by_verband.add(verband.pk)
            if verband.serving_gemeinde:
                office.postcode = verband.serving_gemeinde.town_hall_postcode
        office.save()
        created += 1
    for verband in verbaende:
        if verband.pk in by_verband:
            continue
        serving = verband.serving_gemeinde
        Office.objects.create(
            name=default_office_name(verband=verband),
            kind=Office.Kind.MUNICIPAL_ADMINISTRATION,
            verband=verband,
            city=_plain_name(serving.name) if serving else verband.seat,
            postcode=serving.town_hall_postcode if serving else "",
        )
        created += 1
    return created


# --- Postcodes ---------------------------------------------------------------

POSTCODE_COLUMNS = {"plz", "ags"}
MAX_POSTCODE_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class PostcodeImportResult:
    created: int = 0
    removed: int = 0
    unchanged: int = 0


def postcodes_import(*, path: str | Path) -> PostcodeImportResult:
    """Replace the postcode → Gemeinde pairs with those of the CSV file, in one transaction.

    Idempotent. Pairs not in the file are removed (nothing refers to them).
    Raises ImportRefused naming the line for any bad row; nothing changes then.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportRefused(f"Datei kann nicht gelesen werden: {exc.strerror}") from None
    if len(raw) > MAX_POSTCODE_FILE_BYTES:
        raise ImportRefused("Die Datei ist zu groß für eine Postleitzahlenliste.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRefused(f"Zeile {line}: kein gültiges UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not set(reader.fieldnames) >= POSTCODE_COLUMNS:
        raise ImportRefused(
            "Zeile 1: Kopfzeile muss die Spalten plz und ags enthalten, gelesen: "
            f"{reader.fieldnames!r}"
        )
    gemeinden = {g.ags: g.pk for g in Gemeinde.objects.only("pk", "ags")}
    wanted: set[tuple[str, int]] = set()
    formers: set[tuple[str, int]] = set()
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise ImportRefused(f"Zeile {line}: falsche Anzahl Spalten")
            code, ags = row["plz"].strip(), row["ags"].strip()
            if not re.fullmatch(r"\d{5}", code):
                raise ImportRefused(f"Zeile {line}: Postleitzahl {code[:20]!r} ist ungültig")
            if not re.fullmatch(r"\d{8}", ags):
                raise ImportRefused(f"Zeile {line}: AGS {ags[:20]!r} ist ungültig")
            if ags not in gemeinden:
                raise ImportRefused(
                    f"Zeile {line}: Gemeinde {ags} ist unbekannt (zuerst import_gv100ad ausführen)"
                )
            wanted.add((code, gemeinden[ags]))
            former = _FORMER_NOTE.search(row.get("hinweis") or "")
            if former:
                formers.add((former["name"].strip()[:100], gemeinden[ags]))
    except csv.Error as exc:
        raise ImportRefused(f"Zeile {reader.line_num}: {exc}") from None
    if not wanted:
        raise ImportRefused("Die Datei enthält keine Postleitzahlen.")
    result = PostcodeImportResult()
    with transaction.atomic():
        existing = {(p.code, p.gemeinde_id): p.pk for p in Postcode.objects.all()}
        stale = [pk for pair, pk in existing.items() if pair not in wanted]
        missing = [pair for pair in wanted if pair not in existing]
        Postcode.objects.filter(pk__in=stale).delete()
        Postcode.objects.bulk_create(Postcode(code=c, gemeinde_id=g) for c, g in sorted(missing))
        result.created, result.removed = len(missing), len(stale)
        result.unchanged = len(wanted) - len(missing)
        record, created = DataEdition.objects.get_or_create(
            source=DataEdition.Source.POSTCODES,
            land_key="16",
            sha256=hashlib.sha256(raw).hexdigest(),
            defaults={"file_name": str(path)[-255:], "summary": dict(result.__dict__)},
        )
        if not created and (missing or stale):
            record.summary = dict(result.__dict__)
            record.save(update_fields=["summary", "imported_at"])
        if _former_names_seed(formers=formers) or missing or stale:
            municipal_data_changed()
    return result


# "umgeschluesselt von 16076038 (Kühdorf) nach Gemeindefusion": the old name.
_FORMER_NOTE = re.compile(
    r"umgeschluesselt von \d{8} \((?P<name>[^()]{1,100})\) nach Gemeindefusion"
)


def _former_names_seed(*, formers: set[tuple[str, int]]) -> int:
    """Create the missing "former municipality" aliases; never touches existing
    ones (staff may have edited or ended them). Returns how many were created."""
    existing = set(
        GemeindeAlias.objects.filter(kind=GemeindeAlias.Kind.FORMER).values_list(
            "name", "gemeinde_id"
        )
    )
    new = sorted(formers - existing)
    GemeindeAlias.objects.bulk_create(
        GemeindeAlias(name=name, gemeinde_id=gemeinde_id, kind=GemeindeAlias.Kind.FORMER)
        for name, gemeinde_id in new
    )
    return len(new)


# --- Ortsteile and former names -------------------------------------------------

ALIAS_COLUMNS = ("name", "ags")
MAX_ALIAS_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIAS_ERRORS = 20


@dataclass
class AliasImportResult:
    created: int = 0
    unchanged: int = 0


def gemeinde_aliases_import(
    *, path: str | Path, kind: str = GemeindeAlias.Kind.ORTSTEIL
) -> AliasImportResult:
    """Add the Ortsteile (or former names, `kind`) of a CSV file with the columns
    name and ags, in one transaction: all or nothing.

    Idempotent: names already known for that Gemeinde are left as they are;
    nothing is deleted (offices add their own in the admin). Raises
    ImportRefused listing the bad lines (encoding, unknown or invalid AGS,
    names repeated in the file, empty or overlong names, file too large).
    """
    if kind not in GemeindeAlias.Kind.values:
        raise ImportRefused(f"Unbekannte Art {str(kind)[:20]!r}")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportRefused(f"Datei kann nicht gelesen werden: {exc.strerror}") from None
    if len(raw) > MAX_ALIAS_FILE_BYTES:
        raise ImportRefused(
            f"Die Datei ist größer als {MAX_ALIAS_FILE_BYTES // (1024 * 1024)} MB; "
            "bitte in mehrere Dateien teilen."
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            f"Zeile {line}: kein gültiges UTF-8 (bitte die Datei als UTF-8 speichern)"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or [f.strip().lower() for f in reader.fieldnames] != list(
        ALIAS_COLUMNS
    ):
        raise ImportRefused(
            f"Zeile 1: Kopfzeile muss genau die Spalten name,ags haben, gelesen: "
            f"{str(reader.fieldnames)[:200]}"
        )
    reader.fieldnames = list(ALIAS_COLUMNS)
    gemeinden = {g.ags: g.pk for g in Gemeinde.objects.only("pk", "ags")}
    errors: list[str] = []
    seen: dict[tuple[str, int], tuple[int, str]] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                errors.append(f"Zeile {line}: falsche Anzahl Spalten")
                continue
            name, ags = " ".join(row["name"].split()), row["ags"].strip()
            if not name or len(name) > 100 or not name.isprintable():
                errors.append(f"Zeile {line}: Name fehlt, ist zu lang oder enthält Steuerzeichen")
            elif not re.fullmatch(r"\d{8}", ags):
                errors.append(f"Zeile {line}: AGS {ags[:20]!r} ist ungültig (8 Ziffern)")
            elif ags not in gemeinden:
                errors.append(f"Zeile {line}: Gemeinde mit AGS {ags} ist unbekannt")
            elif (name.casefold(), gemeinden[ags]) in seen:
                first, _ = seen[(name.casefold(), gemeinden[ags])]
                errors.append(f"Zeile {line}: {name[:100]} steht schon in Zeile {first}")
            else:
                seen[(name.casefold(), gemeinden[ags])] = (line, name)
            if len(errors) >= MAX_ALIAS_ERRORS:
                errors.append("… weitere Fehler nicht aufgeführt")
                break
    except csv.Error as exc:
        errors.append(f"Zeile {reader.line_num}: {exc}")
    if errors:
        raise ImportRefused("\n".join(errors))
    if not seen:
        raise ImportRefused("Die Datei enthält keine Namen.")
    result = AliasImportResult()
    with transaction.atomic():
        existing = {
            (name.casefold(), gemeinde_id)
            for name, gemeinde_id in GemeindeAlias.objects.filter(kind=kind).values_list(
                "name", "gemeinde_id"
            )
        }
        new = [
            GemeindeAlias(name=name, gemeinde_id=gemeinde_id, kind=kind)
            for (folded, gemeinde_id), (_, name) in seen.items()
            if (folded, gemeinde_id) not in existing
        ]
        GemeindeAlias.objects.bulk_create(new)
        result.created, result.unchanged = len(new), len(seen) - len(new)
        if new:
            municipal_data_changed()
    return result


# --- Responsibility ------------------------------------------------------------


@dataclass
class SeedResult:
    services_created: int = 0
    rules_created: int = 0
    exceptions_created: int = 0
    warnings: list[str] = field(default_factory=list)


def responsibility_seed(*, data: dict[str, Any]) -> SeedResult:
    """Create the rules and exceptions of the seed file that do not exist yet.

    Idempotent: a rule is identified by (service, valid_from), an exception by
    (service, Gemeinde, valid_from); existing ones are never changed, so edits
    made in the admin survive a re-run. Raises ImportRefused for a bad file.
    """
    services = data.get("services")
    if not isinstance(services, list) or not services:
        raise ImportRefused("Die Zuständigkeitsdatei enthält keine Liste 'services'.")
    result = SeedResult()
    with transaction.atomic():
        for index, entry in enumerate(services, start=1):
            where = f"Eintrag {index}"
            if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str):
                raise ImportRefused(f"{where}: 'slug' fehlt")
            where = f"Leistung {entry['slug']!r}"
            level = entry.get("level")
            if level not in ResponsibilityRule.Level.values:
                raise ImportRefused(f"{where}: unbekannte Ebene {level!r}")
            valid_from = _date(entry.get("valid_from", "1990-10-03"), where=where)
            service, created = Service.objects.get_or_create(
                slug=entry["slug"],
                defaults={
                    "name_de": entry.get("name_de", entry["slug"]),
                    "name_en": entry.get("name_en", entry["slug"]),
                    "leistungsschluessel": entry.get("leistungsschluessel", ""),
                },
            )
            result.services_created += created
            _, created = ResponsibilityRule.objects.get_or_create(
                service=service,
                valid_from=valid_from,
                defaults={"level": level, "legal_basis": entry.get("legal_basis", "")},
            )
            result.rules_created += created
            for exception in entry.get("exceptions", []):
                ags = exception.get("ags") if isinstance(exception, dict) else None
                gemeinde = Gemeinde.objects.filter(ags=ags).select_related("verband").first()
                if gemeinde is None:
                    raise ImportRefused(f"{where}: Gemeinde {ags!r} ist unbekannt")
                office = _exception_office(gemeinde, exception.get("office"), where=where)
                _, created = ResponsibilityException.objects.get_or_create(
                    service=service,
                    gemeinde=gemeinde,
                    valid_from=_date(exception.get("valid_from", "1990-10-03"), where=where),
                    defaults={"office": office, "legal_basis": exception.get("legal_basis", "")},
                )
                result.exceptions_created += created
        municipal_data_changed()
    return result


def _exception_office(gemeinde: Gemeinde, spec: Any, *, where: str) -> Office:
    if spec == "own_administration":
        office = Office.objects.filter(verband=gemeinde.verband_id).first()
        if office is None:
            raise ImportRefused(f"{where}: {gemeinde.name} hat keine eigene Verwaltung")
        return office
    raise ImportRefused(f"{where}: unbekannte Behördenangabe {spec!r}")


def _date(value: Any, *, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ImportRefused(f"{where}: ungültiges Datum {value!r}") from None


def responsibility_seed_file(*, path: str | Path) -> SeedResult:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"Zuständigkeitsdatei nicht lesbar: {exc}") from None
    if not isinstance(data, dict):
        raise ImportRefused("Zuständigkeitsdatei muss ein JSON-Objekt sein.")
    return responsibility_seed(data=data)
