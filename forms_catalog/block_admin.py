"""Admin pages of the block library for the Kompetenzzentrum: list, detail (versions, fields,
where used, review) and the field editor, with plain Django forms: no JSON anywhere.

Writes go through block_services, which checks the editor permission and the
four-eyes rule itself. Blocks come from the catalogue (`catalogue/blocks/`);
the pages change their versions, not their existence.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms import formset_factory
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .block_services import (
    BlockError,
    block_content_errors,
    block_open_version,
    block_published_version,
    block_usages,
    block_version_approve,
    block_version_create_draft,
    block_version_request_changes,
    block_version_submit_for_review,
    block_version_update_draft,
)
from .fields import type_names
from .models import EDITOR_PERMISSION, Block, BlockVersion
from .services import NOTE_MAX_LENGTH

# Keys the field editor sets; the others of a field (limits, options, …) are kept as they
# were unless the type changes.
EDITED_KEYS = ("id", "type", "label", "help", "required", "autocomplete", "max_length")
# Files and groups have no place in a block (no groups inside groups; files need a step).
BLOCK_TYPES = [name for name in type_names() if name not in ("file",)]


def is_editor(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(EDITOR_PERMISSION)


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Änderungshinweis"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte geben Sie einen Änderungshinweis an.")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Grund"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte geben Sie einen Grund an.")},
    )


class BlockHeaderForm(forms.Form):
    label_de = forms.CharField(label=_("Überschrift (deutsch)"), max_length=2000)
    label_en = forms.CharField(label=_("Überschrift (englisch)"), max_length=2000)
    help_de = forms.CharField(label=_("Hinweis (deutsch)"), max_length=2000, required=False)
    help_en = forms.CharField(label=_("Hinweis (englisch)"), max_length=2000, required=False)


class BlockFieldForm(forms.Form):
    original_id = forms.CharField(widget=forms.HiddenInput, required=False)
    id = forms.RegexField(
        label=_("Kennung"),
        regex=r"^[a-z][a-z0-9_]{0,39}$",
        error_messages={
            "invalid": _(
                "Nur Kleinbuchstaben, Ziffern und _, beginnend mit einem Buchstaben "
                "(höchstens 40 Zeichen)."
            )
        },
    )
    type = forms.ChoiceField(label=_("Feldtyp"), choices=[(n, n) for n in BLOCK_TYPES])
    label_de = forms.CharField(label=_("Beschriftung (deutsch)"), max_length=2000)
    label_en = forms.CharField(label=_("Beschriftung (englisch)"), max_length=2000)
    help_de = forms.CharField(label=_("Hinweis (deutsch)"), max_length=2000, required=False)
    help_en = forms.CharField(label=_("Hinweis (englisch)"), max_length=2000, required=False)
    required = forms.BooleanField(label=_("Pflichtfeld"), required=False)
    autocomplete = forms.CharField(
        label=_("Autovervollständigung (z. B. family-name)"), max_length=60, required=False
    )
    max_length = forms.IntegerField(
        label=_("Höchstlänge (Zeichen)"), min_value=1, max_value=5000, required=False
    )


BlockFieldFormSet = formset_factory(
    BlockFieldForm, extra=1, can_delete=True, can_order=True, max_num=40, validate_max=True
)


def _text(de: str, en: str) -> dict[str, str] | None:
    return {"de": de, "en": en or de} if de else None


def content_initial(content: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The editor's initial values for a block version's content."""
    label, help_text = content.get("label") or {}, content.get("help") or {}
    header = {
        "label_de": label.get("de", ""),
        "label_en": label.get("en", ""),
        "help_de": help_text.get("de", ""),
        "help_en": help_text.get("en", ""),
    }
    rows = []
    for spec in content.get("fields", []):
        spec_label, spec_help = spec.get("label") or {}, spec.get("help") or {}
        rows.append(
            {
                "original_id": spec.get("id", ""),
                "id": spec.get("id", ""),
                "type": spec.get("type", "text"),
                "label_de": spec_label.get("de", ""),
                "label_en": spec_label.get("en", ""),
                "help_de": spec_help.get("de", ""),
                "help_en": spec_help.get("en", ""),
                "required": bool(spec.get("required")),
                "autocomplete": spec.get("autocomplete", ""),
                "max_length": spec.get("max_length"),
            }
        )
    return header, rows


def content_from_forms(
    header: BlockHeaderForm, formset: Any, previous: dict[str, Any]
) -> dict[str, Any]:
    """The content the editor's valid forms describe; keys the editor does not show (limits,
    options, …) stay from the field with the same original id, unless its type changed."""
    old_fields = {f.get("id"): f for f in previous.get("fields", []) if isinstance(f, dict)}
    content: dict[str, Any] = {
        "label": _text(header.cleaned_data["label_de"], header.cleaned_data["label_en"])
    }
    help_text = _text(header.cleaned_data["help_de"], header.cleaned_data["help_en"])
    if help_text:
        content["help"] = help_text
    fields = []
    for form in formset.ordered_forms if formset.can_order else formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        old = old_fields.get(data.get("original_id")) or {}
        spec = (
            {k: copy.deepcopy(v) for k, v in old.items() if k not in EDITED_KEYS}
            if old.get("type") == data["type"]
            else {}
        )
        spec.update({"id": data["id"], "type": data["type"]})
        spec["label"] = _text(data["label_de"], data["label_en"])
        help_text = _text(data["help_de"], data["help_en"])
        if help_text:
            spec["help"] = help_text
        if data["required"]:
            spec["required"] = True
        if data["autocomplete"]:
            spec["autocomplete"] = data["autocomplete"]
        if data["max_length"]:
            spec["max_length"] = data["max_length"]
        fields.append(spec)
    content["fields"] = fields
    return content


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("name_de", "slug", "published_number", "open_status", "used_by")
    search_fields = ("name_de", "slug")
    ordering = ("name_de",)

    class Media:
        css = {"all": ("forms_catalog/blocks_admin.css",)}

    # Editors (the Kompetenzzentrum) see and change blocks; nobody adds or deletes them here.
    def has_module_permission(self, request):
        return is_editor(request)

    def has_view_permission(self, request, obj=None):
        return is_editor(request)

    def has_change_permission(self, request, obj=None):
        return is_editor(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("veröffentlichte Version"))
    def published_number(self, obj: Block) -> str:
        version = block_published_version(block=obj)
        return str(version.number) if version else "—"

    @admin.display(description=_("in Arbeit"))
    def open_status(self, obj: Block) -> str:
        version = block_open_version(block=obj)
        return f"v{version.number}: {version.get_status_display()}" if version else "—"

    @admin.display(description=_("verwendet in (aktuelle Versionen)"))
    def used_by(self, obj: Block) -> int:
        return len({u.version.service_id for u in block_usages(block=obj, latest_only=True)})

    def get_urls(self):
        return [
            path(
                "<int:pk>/felder/",
                self.admin_site.admin_view(self.edit_view),
                name="forms_catalog_block_edit",
            ),
            *super().get_urls(),
        ]

    def _block(self, request, pk) -> Block:
        if not is_editor(request):
            raise PermissionDenied
        return get_object_or_404(Block, pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The block: its fields, versions, where it is used and the next review step."""
        try:
            block = self._block(request, int(object_id))
        except ValueError as exc:
            raise PermissionDenied from exc
        open_version = block_open_version(block=block)
        bound: dict[str, forms.Form] = {}
        if request.method == "POST":
            action = request.POST.get("action", "")
            target = self._run_action(request, block, open_version, action, bound)
            if target is not None:
                return redirect("admin:forms_catalog_block_change", block.pk)
            open_version = block_open_version(block=block)
        published = block_published_version(block=block)
        contributor = bool(open_version and request.user.pk in open_version.contributor_ids)
        forms_shown: dict[str, forms.Form] = {}
        if open_version and open_version.status == BlockVersion.Status.DRAFT:
            forms_shown["submit"] = bound.get("submit") or NoteForm(prefix="submit")
        if open_version and open_version.status == BlockVersion.Status.IN_REVIEW:
            forms_shown["changes"] = bound.get("changes") or ReasonForm(prefix="changes")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "baustein": block,
            "published": published,
            "open_version": open_version,
            "open_problems": block_content_errors(content=open_version.content)
            if open_version
            else [],
            "versions": block.versions.select_related("approved_by").order_by("-number"),
            "usages": block_usages(block=block),
            "contributor": contributor,
            "review_forms": forms_shown,
            "action_error": bound.get("error"),
            "title": _("Baustein: %(name)s") % {"name": block.name_de},
        }
        return TemplateResponse(request, "admin/forms_catalog/block/detail.html", context)

    def _run_action(self, request, block, open_version, action, bound) -> bool | None:
        user = request.user
        try:
            if action == "create":
                block_version_create_draft(block=block, user=user)
                messages.success(request, gettext("Ein neuer Entwurf des Bausteins ist angelegt."))
                return True
            if open_version is None:
                raise BlockError(gettext("Dieser Baustein hat keinen Entwurf."))
            if action == "submit":
                form = NoteForm(request.POST, prefix="submit")
                bound["submit"] = form
                if form.is_valid():
                    block_version_submit_for_review(
                        version=open_version, user=user, note=form.cleaned_data["note"]
                    )
                    messages.success(request, gettext("Der Baustein ist zur Prüfung gegeben."))
                    return True
                return None
            if action == "changes":
                form = ReasonForm(request.POST, prefix="changes")
                bound["changes"] = form
                if form.is_valid():
                    block_version_request_changes(
                        version=open_version, user=user, reason=form.cleaned_data["reason"]
                    )
                    messages.success(request, gettext("Der Baustein ist zurückgegeben."))
                    return True
                return None
            if action == "approve":
                report = block_version_approve(version=open_version, user=user)
                messages.success(
                    request,
                    gettext(
                        "Der Baustein ist veröffentlicht. Neue Formular-Entwürfe: %(new)s, "
                        "geänderte Entwürfe: %(changed)s, nicht geändert (in Prüfung): %(skipped)s."
                    )
                    % {
                        "new": len(report.drafts_created),
                        "changed": len(report.drafts_updated),
                        "skipped": len(report.skipped),
                    },
                )
                return True
            raise BlockError(gettext("Unbekannte Aktion."))
        except BlockError as exc:
            bound["error"] = exc.message
            return None

    def edit_view(self, request, pk: int):
        """The fields of the block's draft as plain forms: one fieldset per field."""
        block = self._block(request, pk)
        draft = block_open_version(block=block)
        if draft is None or draft.status != BlockVersion.Status.DRAFT:
            messages.error(
                request, gettext("Legen Sie zuerst einen Entwurf an (oder geben Sie ihn zurück).")
            )
            return redirect("admin:forms_catalog_block_change", block.pk)
        header_initial, rows = content_initial(draft.content)
        if request.method == "POST":
            header = BlockHeaderForm(request.POST, prefix="block")
            formset = BlockFieldFormSet(request.POST, prefix="fields")
            if header.is_valid() and formset.is_valid():
                content = content_from_forms(header, formset, draft.content)
                try:
                    block_version_update_draft(version=draft, user=request.user, content=content)
                except BlockError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, gettext("Die Felder des Entwurfs sind gespeichert."))
                    return redirect("admin:forms_catalog_block_edit", block.pk)
        else:
            header = BlockHeaderForm(prefix="block", initial=header_initial)
            formset = BlockFieldFormSet(prefix="fields", initial=rows)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "baustein": block,
            "draft": draft,
            "header": header,
            "formset": formset,
            "problems": block_content_errors(content=draft.content),
            "title": _("Felder bearbeiten: %(name)s, Entwurf Version %(n)s")
            % {"name": block.name_de, "n": draft.number},
        }
        return TemplateResponse(request, "admin/forms_catalog/block/edit.html", context)
