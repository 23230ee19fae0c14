"""Admin for the Kompetenzzentrum: services, form versions, drafts, preview, diff, publish.

Only users with `forms_catalog.publish_formversion` may change services or
definitions, publish or retire. Everyone else with admin access (municipal
staff) sees the catalogue read-only. All writes go through services.py.
"""

from __future__ import annotations

import difflib
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .checks import definition_errors
from .fim.services import fim_schema_import, form_version_export_fim
from .fim.xdf_read import MAX_XML_BYTES, FimImportError
from .models import FormVersion, Service
from .selectors import compiled_form, published_version
from .services import (
    FormVersionError,
    form_version_create_draft,
    form_version_publish,
    form_version_retire,
    form_version_update_draft,
)

PUBLISH_PERMISSION = "forms_catalog.publish_formversion"


def can_publish(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(PUBLISH_PERMISSION)


def pretty(definition: object) -> str:
    return json.dumps(definition, ensure_ascii=False, indent=2, sort_keys=False)


class EditorOnlyMixin:
    """Changes only for the Kompetenzzentrum; viewing follows the normal view permission."""

    def has_add_permission(self, request, *args):
        return can_publish(request)

    def has_change_permission(self, request, obj=None):
        return can_publish(request)

    def has_delete_permission(self, request, obj=None):
        return can_publish(request)

    def has_publish_permission(self, request):
        return can_publish(request)


@admin.register(Service)
class ServiceAdmin(EditorOnlyMixin, admin.ModelAdmin):
    list_display = ("name_de", "slug", "leistungsschluessel", "current_version", "is_active")
    search_fields = ("name_de", "name_en", "slug", "leistungsschluessel")
    list_filter = ("is_active",)
    actions = ["create_draft"]

    def has_delete_permission(self, request, obj=None):
        return False  # services are referenced by submissions; deactivate instead

    def get_readonly_fields(self, request, obj=None):
        # The retention period decides when citizens' data is erased statewide:
        # platform administrators only. A read-only field is not part of the
        # form, so a forged POST cannot change it either.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("retention_days")
        return fields

    @admin.display(description=_("veröffentlichte Version"))
    def current_version(self, obj: Service) -> str:
        version = published_version(service=obj)
        return f"v{version.number}" if version else "—"

    @admin.action(
        description=_("Neuen Entwurf aus der neuesten Version anlegen"), permissions=["publish"]
    )
    def create_draft(self, request, queryset):
        for service in queryset:
            _create_draft(request, service)


def _create_draft(request: HttpRequest, service: Service) -> FormVersion | None:
    try:
        draft = form_version_create_draft(service=service, user=request.user)
    except FormVersionError as exc:
        messages.error(request, f"{service}: {exc.message}")
        return None
    messages.success(
        request, _("Entwurf v%(n)s für %(s)s angelegt.") % {"n": draft.number, "s": service}
    )
    return draft


class DefinitionField(forms.CharField):
    """JSON text in, dict out; syntax errors name line and column."""

    widget = forms.Textarea(
        attrs={"rows": 40, "cols": 120, "spellcheck": "false", "class": "vLargeTextField"}
    )

    def prepare_value(self, value):
        return value if isinstance(value, str) else pretty(value)

    def to_python(self, value):
        try:
            data = json.loads(value or "")
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Kein gültiges JSON (Zeile %(line)s, Spalte %(col)s): %(msg)s")
                % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError(_("Die Definition muss ein JSON-Objekt sein."))
        return data


class FormVersionForm(forms.ModelForm):
    definition = DefinitionField(label=_("Definition (JSON)"))

    class Meta:
        model = FormVersion
        fields = ["service", "definition", "change_note"]

    def clean_service(self):
        service = self.cleaned_data["service"]
        if (
            self.instance.pk is None
            and FormVersion.objects.filter(
                service=service, status=FormVersion.Status.DRAFT
            ).exists()
        ):
            raise forms.ValidationError(
                _("Für diese Leistung gibt es bereits einen Entwurf; bitte bearbeiten Sie diesen.")
            )
        return service

    def clean_definition(self):
        definition = self.cleaned_data["definition"]
        errors = definition_errors(definition)
        if errors:
            # One message per problem, each starting with its JSON path.
            raise forms.ValidationError([str(e) for e in errors[:200]])
        return definition


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class FimImportForm(forms.Form):
    """Upload of a FIM schema; the import itself is `fim_schema_import`."""

    schema = forms.FileField(
        label=_("Stammdatenschema (XDatenfelder 2.0 oder 3.0, XML)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,text/xml,application/xml"}),
    )
    codelists = MultipleFileField(
        label=_("Codelisten (genericode, XML; nur für XDatenfelder 2 nötig)"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": ".xml,text/xml,application/xml"}),
    )
    service = forms.SlugField(
        label=_("Kennung der Leistung"),
        max_length=60,
        help_text=_(
            "Eine vorhandene Leistung erhält einen neuen Entwurf; eine unbekannte Kennung "
            "legt eine neue Leistung mit dem Namen aus dem Schema an."
        ),
    )


def _upload_bytes(upload) -> bytes:
    # One byte over the limit is enough for the importer's size message.
    return upload.read(MAX_XML_BYTES + 1)


@admin.register(FormVersion)
class FormVersionAdmin(EditorOnlyMixin, admin.ModelAdmin):
    form = FormVersionForm
    list_display = ("service", "number", "status", "published_at", "published_by", "tools")
    list_filter = ("status", "service")
    search_fields = ("service__name_de", "service__slug", "change_note")
    actions = ["create_draft", "publish", "retire"]
    readonly_fields = ("status", "number", "checksum", "published_at", "published_by", "tools")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["service", "definition", "change_note"]
        return [
            "service",
            "number",
            "status",
            "tools",
            "definition",
            "change_note",
            "checksum",
            "published_at",
            "published_by",
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("service")
            if obj.status != FormVersion.Status.DRAFT:
                fields += ["definition_text", "change_note"]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.status != FormVersion.Status.DRAFT:
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if obj is not None and obj.status != FormVersion.Status.DRAFT:
            fields = [("definition_text" if f == "definition" else f) for f in fields]
        return [(None, {"fields": fields})]

    @admin.display(description=_("Definition"))
    def definition_text(self, obj: FormVersion):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", pretty(obj.definition))

    def has_change_permission(self, request, obj=None):
        # Published and retired versions are immutable: read-only for everyone.
        if obj is not None and obj.status != FormVersion.Status.DRAFT:
            return False
        return can_publish(request)

    def has_delete_permission(self, request, obj=None):
        return can_publish(request) and (obj is None or obj.status == FormVersion.Status.DRAFT)

    def delete_queryset(self, request, queryset):
        queryset.filter(status=FormVersion.Status.DRAFT).delete()

    def save_model(self, request, obj, form, change):
        if change:
            form_version_update_draft(
                version=obj,
                definition=form.cleaned_data["definition"],
                change_note=form.cleaned_data.get("change_note", ""),
                user=request.user,
            )
            return
        try:
            created = form_version_create_draft(
                service=form.cleaned_data["service"],
                user=request.user,
                definition=form.cleaned_data["definition"],
                change_note=form.cleaned_data.get("change_note", ""),
            )
        except FormVersionError as exc:
            raise PermissionDenied(exc.message) from exc
        obj.pk = created.pk
        obj.number = created.number

    @admin.display(description=_("Werkzeuge"))
    def tools(self, obj: FormVersion):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:forms_catalog_formversion_preview", args=[obj.pk]),
            _("Vorschau"),
            reverse("admin:forms_catalog_formversion_diff", args=[obj.pk]),
            _("Unterschiede zur veröffentlichten Version"),
            reverse("admin:forms_catalog_formversion_fim_export", args=[obj.pk]),
            _("Als FIM XDatenfelder 3 herunterladen"),
        )

    # -- actions ------------------------------------------------------------
    @admin.action(
        description=_("Neuen Entwurf aus der neuesten Version anlegen"), permissions=["publish"]
    )
    def create_draft(self, request, queryset):
        for service_id in set(queryset.values_list("service_id", flat=True)):
            _create_draft(request, Service.objects.get(pk=service_id))

    @admin.action(description=_("Ausgewählte Entwürfe veröffentlichen"), permissions=["publish"])
    def publish(self, request, queryset):
        for version in queryset:
            try:
                form_version_publish(version=version, user=request.user)
            except FormVersionError as exc:
                messages.error(request, f"{version}: {exc.message}")
                for error in exc.errors[:50]:
                    messages.error(request, f"v{version.number} – {error}")
            else:
                messages.success(request, _("%(v)s veröffentlicht.") % {"v": version})

    @admin.action(description=_("Ausgewählte Versionen zurückziehen"), permissions=["publish"])
    def retire(self, request, queryset):
        for version in queryset:
            try:
                form_version_retire(version=version, user=request.user)
            except FormVersionError as exc:
                messages.error(request, f"{version}: {exc.message}")
            else:
                messages.success(request, _("%(v)s zurückgezogen.") % {"v": version})

    # -- preview and diff ---------------------------------------------------
    def get_urls(self):
        extra = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="forms_catalog_formversion_preview",
            ),
            path(
                "<int:pk>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="forms_catalog_formversion_diff",
            ),
            path(
                "<int:pk>/fim-export/",
                self.admin_site.admin_view(self.fim_export_view),
                name="forms_catalog_formversion_fim_export",
            ),
            path(
                "fim-import/",
                self.admin_site.admin_view(self.fim_import_view),
                name="forms_catalog_formversion_fim_import",
            ),
        ]
        return extra + super().get_urls()

    def _version_for_view(self, request, pk: int) -> FormVersion:
        version = get_object_or_404(FormVersion.objects.select_related("service"), pk=pk)
        if not self.has_view_or_change_permission(request, version) and not can_publish(request):
            raise PermissionDenied
        return version

    def preview_view(self, request, pk: int):
        """Every step as a citizen sees it (empty form, read-only), in German or English."""
        version = self._version_for_view(request, pk)
        language = "en" if request.GET.get("lang") == "en" else "de"
        errors = definition_errors(version.definition, render=False)
        steps = []
        if not errors:
            compiled = compiled_form(version=version)
            for step in compiled.steps:
                form = compiled.form_class(step.id)(prefix=step.id, answers={}, language=language)
                steps.append(
                    {
                        "id": step.id,
                        "title": compiled.step_title(step.id, language),
                        "intro": compiled.step_intro(step.id, language),
                        "form": form,
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "version": version,
            "steps": steps,
            "errors": errors,
            "language": language,
            "title": _("Vorschau: %(v)s") % {"v": version},
        }
        return TemplateResponse(request, "admin/forms_catalog/formversion/preview.html", context)

    def diff_view(self, request, pk: int):
        version = self._version_for_view(request, pk)
        base = published_version(service=version.service)
        if base is None or base.pk == version.pk:
            base = (
                FormVersion.objects.filter(service=version.service, number__lt=version.number)
                .order_by("-number")
                .first()
            )
        old = pretty(base.definition).splitlines() if base else []
        new = pretty(version.definition).splitlines()
        lines = list(
            difflib.unified_diff(
                old, new, f"v{base.number}" if base else "—", f"v{version.number}", lineterm="", n=3
            )
        )
        rows = [
            {
                "text": line,
                "kind": "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx",
            }
            for line in lines
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "version": version,
            "base": base,
            "rows": rows,
            "title": _("Unterschiede: %(v)s") % {"v": version},
        }
        return TemplateResponse(request, "admin/forms_catalog/formversion/diff.html", context)

    # -- FIM XDatenfelder -----------------------------------------------------
    def fim_import_view(self, request):
        """Upload a schema (+ code lists): a new draft and the report of what was not mapped."""
        if not can_publish(request):
            raise PermissionDenied
        result, problem = None, ""
        if request.method == "POST":
            form = FimImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    result = fim_schema_import(
                        schema=_upload_bytes(form.cleaned_data["schema"]),
                        codelists=[
                            (upload.name, _upload_bytes(upload))
                            for upload in form.cleaned_data["codelists"]
                        ],
                        service_slug=form.cleaned_data["service"],
                        user=request.user,
                    )
                except FimImportError as exc:
                    problem = exc.message
                else:
                    form = FimImportForm()
        else:
            form = FimImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "result": result,
            "problem": problem,
            "title": _("FIM-Schema importieren"),
        }
        return TemplateResponse(request, "admin/forms_catalog/formversion/fim_import.html", context)

    def fim_export_view(self, request, pk: int):
        """The version as an XDatenfelder 3.0.0 file (download)."""
        version = self._version_for_view(request, pk)
        data, _report = form_version_export_fim(version=version)
        response = HttpResponse(data, content_type="application/xml; charset=utf-8")
        name = f"{version.service.slug}-v{version.number}.xdf3.xml"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
