"""The designer's admin pages: structure (tree + side panel), preview, check.

Wired in `FormVersionAdmin.get_urls` / `ServiceAdmin.get_urls` (admin.py) through
`admin_site.admin_view`, so only logged-in staff with a verified second
factor arrive here; every page then requires the editor permission (others:
403). A version that does not exist is a 404. Only a draft can be changed:
every save goes through `form_version_update_draft`, which refuses anything
else, also for a version sent to review since the page was opened. A stale
page (the draft changed since it was loaded) is refused with what was typed
kept on the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from ..block_services import BlockError, block_reference_insert
from ..checks import DefinitionError, definition_errors
from ..compiler import CompiledForm
from ..definition import tr
from ..fields import registered
from ..models import EDITOR_PERMISSION, Block, BlockVersion, FormVersion, Service
from ..services import FormVersionError, form_version_create_draft, form_version_update_draft
from .edits import (
    DIRECTIONS,
    EditRefused,
    add_element,
    add_step,
    delete,
    duplicate,
    move,
    set_options,
    type_choices,
    update_element,
)
from .paths import ElementNotFound, Located, child_path, find, step_path
from .problems import describe
from .settings_form import element_form

LANGUAGES = ("de", "en")
WIDTHS = ("desktop", "320")
URL_PREFIX = "admin:forms_catalog_formversion_designer"


def _require_editor(request: HttpRequest) -> None:
    if not (request.user.is_active and request.user.has_perm(EDITOR_PERMISSION)):
        raise PermissionDenied


def designer_url(version: FormVersion, element: str | None = None, name: str = "") -> str:
    url = reverse(f"{URL_PREFIX}{name}", args=[version.pk])
    return f"{url}?element={quote(element, safe='/')}" if element else url


def _optional_url(name: str, version: FormVersion) -> str | None:
    """The URL of a designer page another module provides, if it is installed."""
    try:
        return reverse(f"{URL_PREFIX}_{name}", args=[version.pk])
    except NoReverseMatch:
        return None


def tabs(version: FormVersion, active: str, element: str | None = None) -> list[dict[str, Any]]:
    query = f"?element={quote(element, safe='/')}" if element else ""
    candidates = [
        ("structure", _("Aufbau"), reverse(URL_PREFIX, args=[version.pk])),
        ("rules", _("Bedingungen und Prüfregeln"), _optional_url("rules", version)),
        ("fees", _("Gebühren"), _optional_url("fees", version)),
        ("preview", _("Vorschau"), reverse(f"{URL_PREFIX}_preview", args=[version.pk])),
        ("check", _("Prüfen"), reverse(f"{URL_PREFIX}_check", args=[version.pk])),
    ]
    return [
        {"name": name, "label": label, "url": url + query, "active": name == active}
        for name, label, url in candidates
        if url is not None
    ]


def designer_context(
    *,
    request: HttpRequest,
    admin_site,
    version: FormVersion,
    active: str,
    element: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What `admin/forms_catalog/designer/base.html` needs: the admin's context, the
    version, whether it is a draft, and the tabs ("structure", "rules", "fees",
    "preview", "check": `active` marks the current one; `element` is kept in the links)."""
    return {
        **admin_site.each_context(request),
        "opts": FormVersion._meta,
        "version": version,
        "is_draft": version.status == FormVersion.Status.DRAFT,
        "tabs": tabs(version, active, element),
        "title": _("Formular gestalten: %(s)s, Version %(n)s")
        % {"s": version.service.name_de, "n": version.number},
        **extra,
    }


def _text(value: Any) -> str:
    return tr(value, "de") if isinstance(value, (dict, str)) else ""


def element_title(element: dict[str, Any], kind: str) -> str:
    text = _text(element.get("title" if kind == "step" else "label"))
    return text or _("(ohne Beschriftung: %(id)s)") % {"id": element.get("id", "?")}


def _type_title(element: dict[str, Any]) -> str:
    if element.get("type") == "group":
        return _("Wiederholbare Gruppe") if element.get("repeatable") else _("Gruppe")
    kind = registered().get(str(element.get("type")))
    return str(kind.designer_title) if kind else str(element.get("type"))


def tree(definition: dict[str, Any], selected: str | None) -> list[dict[str, Any]]:
    """The steps with their fields and groups, for the tree of links on the left."""
    nodes = []
    for step in definition.get("steps", []):
        if not isinstance(step, dict):
            continue
        s_path = step_path(str(step.get("id")))
        children = []
        for item in step.get("fields", []):
            if not isinstance(item, dict):
                continue
            i_path = child_path(s_path, str(item.get("id")))
            grandchildren = [
                {
                    "path": child_path(i_path, str(c.get("id"))),
                    "title": element_title(c, "field"),
                    "type": _type_title(c),
                    "selected": child_path(i_path, str(c.get("id"))) == selected,
                    "children": [],
                }
                for c in (item.get("fields", []) if item.get("type") == "group" else [])
                if isinstance(c, dict)
            ]
            children.append(
                {
                    "path": i_path,
                    "title": element_title(item, "field"),
                    "type": _type_title(item),
                    "selected": i_path == selected,
                    "children": grandchildren,
                }
            )
        nodes.append(
            {
                "path": s_path,
                "title": element_title(step, "step"),
                "type": _("Schritt"),
                "selected": s_path == selected,
                "children": children,
            }
        )
    return nodes


class Designer:
    """The designer's views, bound to the form version admin (for its admin context)."""

    def __init__(self, model_admin) -> None:
        self.model_admin = model_admin

    # -- helpers --------------------------------------------------------------------
    def _version(self, request: HttpRequest, pk: int) -> FormVersion:
        _require_editor(request)
        return get_object_or_404(FormVersion.objects.select_related("service"), pk=pk)

    def _context(self, request, version: FormVersion, active: str, element=None, **extra):
        return designer_context(
            request=request,
            admin_site=self.model_admin.admin_site,
            version=version,
            active=active,
            element=element,
            **extra,
        )

    def _located(self, request, definition, element: str | None) -> Located | None:
        if not element:
            return None
        try:
            return find(definition, element)
        except ElementNotFound:
            messages.warning(
                request,
                _("Dieses Element gibt es im Entwurf nicht (mehr). Bitte wählen Sie es neu aus."),
            )
            return None

    # -- structure ------------------------------------------------------------------
    def structure(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The tree of steps, groups and fields, and the selected element's side panel."""
        version = self._version(request, pk)
        if request.method == "POST":
            return self._post(request, version)
        element = request.GET.get("element") or None
        located = self._located(request, version.definition, element)
        form = None
        if located is not None:
            form = self._settings_form(located)
        return self._render_structure(
            request, version, located, form, confirm_delete=bool(request.GET.get("loeschen"))
        )

    def _settings_form(self, located: Located, data=None):
        from_kind = located.kind
        form_class, rows = _element_form(located, from_kind)
        return form_class(data=data, element=located.element, option_rows=rows)

    def _render_structure(self, request, version, located, form, *, confirm_delete=False):
        selected = located.path if located else None
        definition = version.definition if isinstance(version.definition, dict) else {}
        steps = [s for s in definition.get("steps", []) if isinstance(s, dict)]
        context = self._context(
            request,
            version,
            "structure",
            selected,
            tree=tree(definition, selected),
            located=located,
            selected=selected,
            selected_title=element_title(located.element, located.kind) if located else "",
            selected_type=_type_title(located.element) if located else "",
            form=form,
            type_choices=type_choices(),
            confirm_delete=confirm_delete and located is not None,
            can_move_steps=located is not None
            and located.kind != "step"
            and located.group is None
            and len(steps) > 1,
            fim=located.element.get("fim") if located else None,
            rules_url=_optional_url("rules", version),
            add_target_label=_add_target_label(located),
            blocks=_published_blocks() if located is not None and located.group is None else [],
        )
        return TemplateResponse(request, "admin/forms_catalog/designer/structure.html", context)

    def _post(self, request: HttpRequest, version: FormVersion) -> HttpResponse:
        action = request.POST.get("action", "")
        element = request.POST.get("element", "")[:300] or None
        definition = version.definition
        if action == "add_block" and request.POST.get("checksum") == version.checksum:
            return self._add_block(request, version, element)
        if request.POST.get("checksum") != version.checksum:
            messages.error(
                request,
                _(
                    "Der Entwurf wurde geändert, seit Sie die Seite geöffnet haben (in einem "
                    "anderen Fenster oder von einem anderen Mitglied). Ihre Eingaben sind unten "
                    "noch zu sehen; bitte prüfen Sie die aktuelle Fassung und speichern Sie erneut."
                ),
            )
            located = self._located(request, definition, element)
            form = self._settings_form(located, request.POST) if located else None
            if form is not None:
                form.is_valid()
            return self._render_structure(request, version, located, form)
        form = None
        try:
            if action == "save":
                located = find(definition, element)
                form = self._settings_form(located, request.POST)
                if not form.is_valid():
                    messages.error(request, _("Bitte korrigieren Sie die markierten Angaben."))
                    return self._render_structure(request, version, located, form)
                new, path = update_element(definition, element, values=form.values())
                if form.has_options:
                    new, path = set_options(
                        new, path, options=form.options(move=_option_move(request))
                    )
                done = _("Gespeichert.")
            elif action == "add_step":
                new, path = add_step(
                    definition, title_de=request.POST.get("title_de", ""), after=element
                )
                done = _("Schritt hinzugefügt. Fügen Sie nun Felder hinzu.")
            elif action == "add":
                kind = request.POST.get("kind", "")
                if kind not in dict(type_choices()):
                    raise EditRefused(_("Bitte wählen Sie, was hinzugefügt werden soll."))
                new, path = add_element(
                    definition,
                    target=element or "",
                    kind=kind,
                    label_de=request.POST.get("label_de", ""),
                )
                done = _("Hinzugefügt. Ergänzen Sie rechts die Einstellungen.")
            elif action == "move":
                direction = request.POST.get("direction", "")
                if direction not in DIRECTIONS:
                    raise EditRefused(_("Unbekannte Richtung."))
                new, path = move(definition, element or "", direction)
                done = _("Verschoben.")
            elif action == "duplicate":
                new, path = duplicate(definition, element or "")
                done = _("Kopie angelegt.")
            elif action == "delete":
                doomed = find(definition, element)
                title = element_title(doomed.element, doomed.kind)
                new, path = delete(definition, element or "")
                done = _("„%(t)s“ gelöscht.") % {"t": title}
            else:
                raise EditRefused(_("Unbekannte Aktion."))
        except ElementNotFound:
            messages.error(
                request,
                _("Dieses Element gibt es im Entwurf nicht (mehr). Bitte wählen Sie es neu aus."),
            )
            return redirect(designer_url(version))
        except EditRefused as exc:
            messages.error(request, exc.message)
            if form is not None:  # a refused id: the settings as typed stay on the page
                form.add_error("id", exc.message)
            return self._render_structure(
                request, version, self._located(request, definition, element), form
            )
        try:
            form_version_update_draft(version=version, definition=new, user=request.user)
        except FormVersionError as exc:
            messages.error(request, exc.message)
            return redirect(designer_url(version, element))
        messages.success(request, done)
        return HttpResponseRedirect(designer_url(version, path))

    def _add_block(self, request: HttpRequest, version: FormVersion, element: str | None):
        """Insert a published block (reusable field group) into the selected element's step,
        by reference (forms_catalog.block_services): its fields are the block's."""
        try:
            located = find(version.definition, element)
        except ElementNotFound:
            messages.error(
                request,
                _("Dieses Element gibt es im Entwurf nicht (mehr). Bitte wählen Sie es neu aus."),
            )
            return redirect(designer_url(version))
        step_id = located.path.split("/")[1]
        raw = request.POST.get("block", "")
        block = Block.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if block is None:
            messages.error(request, _("Bitte wählen Sie einen Baustein."))
            return redirect(designer_url(version, located.path))
        group_id = request.POST.get("group_id", "").strip()[:63] or block.slug.replace("-", "_")
        try:
            block_reference_insert(
                version=version, user=request.user, step_id=step_id, block=block, group_id=group_id
            )
        except BlockError as exc:
            messages.error(request, exc.message)
            return redirect(designer_url(version, located.path))
        messages.success(request, _("Baustein „%(name)s“ eingefügt.") % {"name": block.name_de})
        return HttpResponseRedirect(designer_url(version, f"steps/{step_id}/fields/{group_id}"))

    # -- preview --------------------------------------------------------------------
    def preview(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The citizen's page of one step, in a frame: German or English, desktop or 320 px."""
        version = self._version(request, pk)
        definition = version.definition if isinstance(version.definition, dict) else {}
        steps = [s for s in definition.get("steps", []) if isinstance(s, dict)]
        element = request.GET.get("element") or None
        located = self._located(request, definition, element)
        step_id = located.step.get("id") if located else (steps[0].get("id") if steps else None)
        language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else "de"
        width = request.GET.get("width") if request.GET.get("width") in WIDTHS else "desktop"
        frame_url = None
        if step_id is not None:
            frame_url = (
                reverse(f"{URL_PREFIX}_preview_frame", args=[version.pk])
                + "?"
                + (urlencode({"step": step_id, "lang": language}))
            )

        def link(**changes) -> str:
            params = {"lang": language, "width": width, **changes}
            if step_id and "element" not in changes:
                params["element"] = step_path(step_id)
            return "?" + urlencode(params)

        context = self._context(
            request,
            version,
            "preview",
            element,
            steps=[
                {
                    "title": element_title(s, "step"),
                    "url": link(element=step_path(str(s.get("id")))),
                    "current": s.get("id") == step_id,
                }
                for s in steps
            ],
            language=language,
            width=width,
            frame_url=frame_url,
            language_links=[
                {"code": c, "name": n, "url": link(lang=c), "current": c == language}
                for c, n in (("de", "Deutsch"), ("en", "English"))
            ],
            width_links=[
                {"code": c, "name": n, "url": link(width=c), "current": c == width}
                for c, n in (
                    ("desktop", _("Bildschirm (breit)")),
                    ("320", _("Schmal (320 px, Smartphone)")),
                )
            ],
        )
        return TemplateResponse(request, "admin/forms_catalog/designer/preview.html", context)

    def preview_frame(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One step as the citizen sees it, rendered from the draft; nothing is stored.
        The only designer page that may be framed, and only by the same origin."""
        version = self._version(request, pk)
        language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else "de"
        step_id = str(request.GET.get("step", ""))[:80]
        context: dict[str, Any] = {
            "service_name": version.service.name(language),
            "problem": "",
            "language": language,
        }
        with translation.override(language):
            try:
                compiled = CompiledForm(version.definition)
                step_ids = compiled.step_ids()
                if step_id not in step_ids:
                    step_id = step_ids[0] if step_ids else ""
                if step_id:
                    form = compiled.form_class(step_id)(
                        prefix=step_id, answers={}, language=language
                    )
                    context.update(
                        form=form,
                        step_title=compiled.step_title(step_id, language),
                        step_intro=compiled.step_intro(step_id, language),
                        step_number=step_ids.index(step_id) + 1,
                        step_count=len(step_ids),
                    )
                    # Render now, inside the language and the guard: an incomplete draft
                    # may fail here, and the editor gets a sentence, not an error page.
                    response = TemplateResponse(
                        request, "forms_catalog/designer/preview_page.html", context
                    )
                    response.render()
                    return response
                context["problem"] = _("Das Formular hat noch keinen Schritt.")
            except Exception:  # an unfinished draft: say so instead of failing
                context["problem"] = _(
                    "Diese Seite lässt sich noch nicht anzeigen: Der Entwurf ist unvollständig. "
                    "„Prüfen“ zeigt, was fehlt."
                )
            response = TemplateResponse(
                request, "forms_catalog/designer/preview_page.html", context
            )
            response.render()
            return response

    # -- check ----------------------------------------------------------------------
    def check(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every problem of the definition in German, each linking to its element."""
        version = self._version(request, pk)
        problems = problem_links(version, definition_errors(version.definition))
        context = self._context(
            request,
            version,
            "check",
            None,
            problems=problems,
            review_url=reverse("admin:forms_catalog_formversion_review", args=[version.pk]),
        )
        return TemplateResponse(request, "admin/forms_catalog/designer/check.html", context)

    # -- from the service -----------------------------------------------------------
    def service_entry(self, request: HttpRequest, pk: int) -> HttpResponse:
        """ "Formular gestalten" of a service: its open draft in the designer, or (POST) a
        new draft (a copy of the latest version, or empty for a new service)."""
        _require_editor(request)
        service = get_object_or_404(Service, pk=pk)
        open_version = (
            FormVersion.objects.filter(service=service, status__in=FormVersion.OPEN_STATUSES)
            .order_by("-number")
            .first()
        )
        if open_version is not None and open_version.status == FormVersion.Status.DRAFT:
            return redirect(designer_url(open_version))
        if open_version is not None:
            messages.info(
                request,
                _(
                    "Version %(n)s ist in Prüfung oder freigegeben. Zum Bearbeiten geben Sie sie "
                    "zuerst zur Überarbeitung zurück."
                )
                % {"n": open_version.number},
            )
            return redirect("admin:forms_catalog_formversion_review", open_version.pk)
        if request.method == "POST":
            try:
                draft = form_version_create_draft(service=service, user=request.user)
            except FormVersionError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("Entwurf Version %(n)s angelegt.") % {"n": draft.number}
                )
                return redirect(designer_url(draft))
        latest = FormVersion.objects.filter(service=service).order_by("-number").first()
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": Service._meta,
            "service": service,
            "latest": latest,
            "title": _("Formular gestalten: %(s)s") % {"s": service.name_de},
        }
        return TemplateResponse(request, "admin/forms_catalog/designer/service_entry.html", context)


def problem_links(version: FormVersion, errors: list[DefinitionError]) -> list[dict[str, Any]]:
    """The errors in German, each with the designer URL of its element (if any)."""
    return [
        {"problem": p, "url": designer_url(version, p.element) if p.element else None}
        for p in describe(version.definition, errors)
    ]


def _published_blocks() -> list[Block]:
    return list(
        Block.objects.filter(versions__status=BlockVersion.Status.PUBLISHED)
        .distinct()
        .order_by("name_de")
    )


def _element_form(located: Located, kind: str):
    return element_form(located.element, kind=kind, in_repeatable_group=located.in_repeatable_group)


def _option_move(request: HttpRequest) -> tuple[int, str] | None:
    raw = str(request.POST.get("option_move", ""))[:20]
    index, _sep, direction = raw.partition(":")
    if index.isdigit() and direction in ("up", "down"):
        return int(index), direction
    return None


def _add_target_label(located: Located | None) -> str:
    if located is None:
        return ""
    if located.kind == "step":
        return _("am Ende des Schritts „%(t)s“") % {"t": element_title(located.element, "step")}
    if located.kind == "group":
        return _("in der Gruppe „%(t)s“ (eine neue Gruppe: nach ihr)") % {
            "t": element_title(located.element, "group")
        }
    return _("nach „%(t)s“") % {"t": element_title(located.element, "field")}


def frame_view(view):
    """Same-origin framing for the preview frame only (the admin's default: DENY / 'none')."""
    return csp_replace({"frame-ancestors": ["'self'"]})(xframe_options_sameorigin(view))
