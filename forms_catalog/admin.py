"""Admin for the Kompetenzzentrum: services, form versions, drafts, preview, review, publish.

Only users with `forms_catalog.publish_formversion` may change services or
definitions, review, publish or retire. Everyone else with admin access
(municipal staff) sees the catalogue read-only. All writes go through
services.py, which checks the permission and the four-eyes rule again.
A version is published only through its review page: submitted for review,
approved by a second editor, then published after a confirmation page that
shows what changes statewide, or at a scheduled time.
"""

from __future__ import annotations

import datetime
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import block_admin  # noqa: F401 - registers the block library pages
from .checks import definition_errors
from .designer.rule_views import fees_view, rules_view
from .designer.views import Designer, frame_view, problem_links
from .fim.services import fim_schema_import, form_version_export_fim
from .fim.xdf_read import MAX_XML_BYTES, FimImportError
from .models import EDITOR_PERMISSION, FormVersion, Service
from .selectors import (
    compiled_form,
    form_version_diff,
    form_version_history,
    published_version,
)
from .services import (
    NOTE_MAX_LENGTH,
    FormVersionError,
    form_version_approve,
    form_version_contributors,
    form_version_create_draft,
    form_version_publish,
    form_version_request_changes,
    form_version_retire,
    form_version_schedule,
    form_version_submit_for_review,
    form_version_update_draft,
)

PUBLISH_PERMISSION = EDITOR_PERMISSION


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
    list_display = (
        "name_de",
        "slug",
        "leistungsschluessel",
        "current_version",
        "is_active",
        "designer_link",
    )
    search_fields = ("name_de", "name_en", "slug", "leistungsschluessel")
    list_filter = ("is_active",)
    actions = ["create_draft"]

    def has_delete_permission(self, request, obj=None):
        return False  # services are referenced by submissions; deactivate instead

    def _readonly_without_designer(self, request, obj=None):
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

    @admin.display(description=_("Formular"))
    def designer_link(self, obj: Service) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:forms_catalog_service_designer", args=[obj.pk]),
            _("Formular gestalten"),
        )

    def get_readonly_fields(self, request, obj=None):
        fields = self._readonly_without_designer(request, obj)
        return [*fields, "designer_link"] if obj is not None else fields

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "designer_link"]
        return ["designer_link", *fields] if obj is not None else fields

    def get_urls(self):
        designer = Designer(self)
        return [
            path(
                "<int:pk>/gestalten/",
                self.admin_site.admin_view(designer.service_entry),
                name="forms_catalog_service_designer",
            ),
            *super().get_urls(),
        ]

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
    definition = DefinitionField(label=_("Expertenansicht: Definition (JSON)"))

    class Meta:
        model = FormVersion
        fields = ["service", "definition", "change_note"]

    def clean_service(self):
        service = self.cleaned_data["service"]
        if (
            self.instance.pk is None
            and FormVersion.objects.filter(
                service=service, status__in=FormVersion.OPEN_STATUSES
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


# --- Review forms: German messages, nothing typed is lost on an error ---------------
class _NoteField(forms.CharField):
    def __init__(self, label, **kwargs):
        super().__init__(
            label=label,
            max_length=NOTE_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
            error_messages={
                "required": _("Bitte füllen Sie dieses Feld aus."),
                "max_length": _("Höchstens %(limit_value)d Zeichen."),
            },
            **kwargs,
        )


class _PublishAtMixin:
    """A date and a time field, read as local time (Europe/Berlin)."""

    def publish_at(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("publish_date")
        moment = self.cleaned_data.get("publish_time")
        if day is None or moment is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, moment))


def _date_field(required: bool, label=None) -> forms.DateField:
    return forms.DateField(
        label=label or _("Datum"),
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Bitte geben Sie ein Datum an."),
            "invalid": _("Bitte geben Sie ein gültiges Datum an."),
        },
    )


def _time_field(required: bool, label=None) -> forms.TimeField:
    return forms.TimeField(
        label=label or _("Uhrzeit"),
        required=required,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": _("Bitte geben Sie eine Uhrzeit an."),
            "invalid": _("Bitte geben Sie eine gültige Uhrzeit an."),
        },
    )


class SubmitForReviewForm(forms.Form):
    note = _NoteField(_("Änderungshinweis: was hat sich geändert und warum?"))


class RequestChangesForm(forms.Form):
    reason = _NoteField(_("Grund: was muss überarbeitet werden?"))


class ApproveForm(_PublishAtMixin, forms.Form):
    checksum = forms.CharField(widget=forms.HiddenInput, max_length=64)
    note = _NoteField(_("Notiz zur Freigabe"))
    when = forms.ChoiceField(
        label=_("Veröffentlichung"),
        choices=[
            ("now", _("sofort veröffentlichen (nach einer Bestätigung)")),
            ("later", _("zu einem späteren Zeitpunkt veröffentlichen")),
        ],
        initial="now",
        widget=forms.RadioSelect,
        error_messages={"required": _("Bitte wählen Sie, wann veröffentlicht wird.")},
    )
    publish_date = _date_field(required=False, label=_("Datum (nur bei späterer Veröffentlichung)"))
    publish_time = _time_field(
        required=False, label=_("Uhrzeit (nur bei späterer Veröffentlichung)")
    )

    def clean(self):
        data = super().clean()
        if data.get("when") == "later":
            if not data.get("publish_date") and "publish_date" not in self.errors:
                self.add_error("publish_date", _("Bitte geben Sie ein Datum an."))
            if not data.get("publish_time") and "publish_time" not in self.errors:
                self.add_error("publish_time", _("Bitte geben Sie eine Uhrzeit an."))
        return data


class ScheduleForm(_PublishAtMixin, forms.Form):
    publish_date = _date_field(required=True)
    publish_time = _time_field(required=True)


REVIEW_FORMS = {
    "submit": SubmitForReviewForm,
    "approve": ApproveForm,
    "changes": RequestChangesForm,
    "schedule": ScheduleForm,
}
# Which action a status offers (the services decide again).
STATUS_ACTIONS = {
    FormVersion.Status.DRAFT: ["submit"],
    FormVersion.Status.IN_REVIEW: ["approve", "changes"],
    FormVersion.Status.APPROVED: ["schedule", "changes"],
    FormVersion.Status.SCHEDULED: ["schedule", "changes"],
}


@admin.register(FormVersion)
class FormVersionAdmin(EditorOnlyMixin, admin.ModelAdmin):
    form = FormVersionForm
    list_display = ("service", "number", "status", "published_at", "published_by", "tools")
    list_filter = ("status", "service")
    search_fields = ("service__name_de", "service__slug", "change_note")
    # No "publish" action: publishing goes through the review page (four eyes).
    actions = ["create_draft", "retire"]
    readonly_fields = (
        "status",
        "number",
        "checksum",
        "author",
        "approved_by",
        "approved_at",
        "publish_at",
        "published_at",
        "published_by",
        "tools",
    )

    class Media:
        css = {"all": ["forms_catalog/review.css"]}

    def get_fields(self, request, obj=None):
        # The JSON is the platform administrators' expert view; editors use the designer.
        expert = request.user.is_superuser
        if obj is None:
            return (
                ["service", "definition", "change_note"] if expert else ["service", "change_note"]
            )
        fields = [
            "service",
            "number",
            "status",
            "tools",
            "definition",
            "change_note",
            "checksum",
            "author",
            "approved_by",
            "approved_at",
            "publish_at",
            "published_at",
            "published_by",
        ]
        return fields if expert else [f for f in fields if f != "definition"]

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
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser and "definition" in form.base_fields:
            # A declared field stays in a ModelForm whatever `fields` says: without the
            # expert view it must not be part of the form (nor required) at all.
            form = type(form.__name__, (form,), {})
            form.base_fields = {k: v for k, v in form.base_fields.items() if k != "definition"}
        return form

    def get_fieldsets(self, request, obj=None):
        fields = self.get_fields(request, obj)
        if obj is not None and obj.status != FormVersion.Status.DRAFT:
            fields = [("definition_text" if f == "definition" else f) for f in fields]
        return [(None, {"fields": fields})]

    @admin.display(description=_("Definition"))
    def definition_text(self, obj: FormVersion):
        return format_html('<pre class="portal-definition">{}</pre>', pretty(obj.definition))

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
            try:
                form_version_update_draft(
                    version=obj,
                    definition=form.cleaned_data.get("definition"),
                    change_note=form.cleaned_data.get("change_note", ""),
                    user=request.user,
                )
            except FormVersionError as exc:  # sent to review since the page was opened
                raise PermissionDenied(exc.message) from exc
            return
        try:
            created = form_version_create_draft(
                service=form.cleaned_data["service"],
                user=request.user,
                # Without the expert view: a copy of the latest version, or an empty form.
                definition=form.cleaned_data.get("definition"),
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
        designer = ""
        if obj.status == FormVersion.Status.DRAFT:
            designer = format_html(
                '<a href="{}">{}</a> · ',
                reverse("admin:forms_catalog_formversion_designer", args=[obj.pk]),
                _("Formular gestalten"),
            )
        return designer + format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:forms_catalog_formversion_review", args=[obj.pk]),
            _("Prüfung und Veröffentlichung"),
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
        designer = Designer(self)
        extra = [
            # The designer (forms_catalog/designer/views.py).
            path(
                "<int:pk>/designer/",
                self.admin_site.admin_view(designer.structure),
                name="forms_catalog_formversion_designer",
            ),
            path(
                "<int:pk>/designer/vorschau/",
                self.admin_site.admin_view(designer.preview),
                name="forms_catalog_formversion_designer_preview",
            ),
            path(
                "<int:pk>/designer/vorschau/seite/",
                frame_view(self.admin_site.admin_view(designer.preview_frame)),
                name="forms_catalog_formversion_designer_preview_frame",
            ),
            path(
                "<int:pk>/designer/pruefen/",
                self.admin_site.admin_view(designer.check),
                name="forms_catalog_formversion_designer_check",
            ),
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
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="forms_catalog_formversion_review",
            ),
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="forms_catalog_formversion_publish",
            ),
            # Designer pickers for conditions, validations and fees
            # (forms_catalog/designer/rule_views.py); the structure editor's own
            # designer URLs are wired next to these.
            path(
                "<int:pk>/designer/regeln/",
                self.admin_site.admin_view(self.designer_rules_view),
                name="forms_catalog_formversion_designer_rules",
            ),
            path(
                "<int:pk>/designer/gebuehren/",
                self.admin_site.admin_view(self.designer_fees_view),
                name="forms_catalog_formversion_designer_fees",
            ),
        ]
        return extra + super().get_urls()

    def designer_rules_view(self, request, pk: int):
        return rules_view(self, request, pk)

    def designer_fees_view(self, request, pk: int):
        return fees_view(self, request, pk)

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
        base, diff = form_version_diff(version=version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "version": version,
            "base": base,
            "diff": diff,
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

    # -- review and publish -------------------------------------------------
    def _run_review_action(self, request, version: FormVersion, action: str, form) -> str | None:
        """Call the service for a valid form; returns where to go next, or None after an
        error (added to the form, so the page shows it with everything typed)."""
        user = request.user
        try:
            if action == "submit":
                form_version_submit_for_review(
                    version=version, user=user, note=form.cleaned_data["note"]
                )
                messages.success(request, gettext("Die Version wurde zur Prüfung gegeben."))
            elif action == "changes":
                form_version_request_changes(
                    version=version, user=user, reason=form.cleaned_data["reason"]
                )
                messages.success(
                    request, gettext("Die Version wurde zur Überarbeitung zurückgegeben.")
                )
            elif action == "approve":
                later = form.cleaned_data["when"] == "later"
                form_version_approve(
                    version=version,
                    user=user,
                    checksum=form.cleaned_data["checksum"],
                    note=form.cleaned_data["note"],
                    publish_at=form.publish_at() if later else None,
                )
                if not later:
                    messages.success(
                        request,
                        gettext("Freigegeben. Bitte bestätigen Sie die Veröffentlichung."),
                    )
                    return reverse("admin:forms_catalog_formversion_publish", args=[version.pk])
                messages.success(request, gettext("Freigegeben und zur Veröffentlichung geplant."))
            elif action == "schedule":
                form_version_schedule(version=version, user=user, publish_at=form.publish_at())
                messages.success(request, gettext("Die Veröffentlichung ist geplant."))
        except FormVersionError as exc:
            form.add_error(None, exc.message)
            # The definition's problems as the designer's "Prüfen" lists them: German, by
            # step and field, each linking to the element (the JSON path as detail).
            form.problems = problem_links(version, exc.errors[:200])
            return None
        return reverse("admin:forms_catalog_formversion_review", args=[version.pk])

    def review_view(self, request, pk: int):
        """Status, history and field-level diff of a version, with the next steps of its
        review for editors: submit, approve (now or scheduled), request changes, schedule."""
        version = self._version_for_view(request, pk)
        editor = can_publish(request)
        actions = STATUS_ACTIONS.get(version.status, []) if editor else []
        contributor = request.user.pk in form_version_contributors(version=version)
        if contributor and "approve" in actions:
            actions = [a for a in actions if a != "approve"]
        bound: dict[str, forms.Form] = {}
        if request.method == "POST":
            action = request.POST.get("action", "")
            if not editor:
                raise PermissionDenied
            if action not in REVIEW_FORMS:
                messages.error(request, gettext("Unbekannte Aktion."))
                return redirect("admin:forms_catalog_formversion_review", version.pk)
            form = REVIEW_FORMS[action](request.POST, prefix=action)
            if form.is_valid():
                target = self._run_review_action(request, version, action, form)
                if target:
                    return redirect(target)
            bound[action] = form
            version.refresh_from_db()
        initial = {
            "submit": {"note": version.change_note},
            "approve": {"checksum": version.checksum, "when": "now"},
        }
        # A refused form is shown again (with its error and what was typed), even an
        # approval the page would not offer this user.
        review_forms = dict(bound)
        for action in actions:
            review_forms.setdefault(
                action, REVIEW_FORMS[action](prefix=action, initial=initial.get(action))
            )
        base, diff = form_version_diff(version=version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "version": version,
            "base": base,
            "diff": diff,
            "history": form_version_history(version=version),
            "review_forms": review_forms,
            "editor": editor,
            "contributor": contributor,
            "can_publish_now": editor
            and version.status in (FormVersion.Status.APPROVED, FormVersion.Status.SCHEDULED),
            "title": _("Prüfung und Veröffentlichung: %(v)s") % {"v": version},
        }
        return TemplateResponse(request, "admin/forms_catalog/formversion/review.html", context)

    def publish_view(self, request, pk: int):
        """The confirmation before a statewide publication: what changes, for whom."""
        version = self._version_for_view(request, pk)
        if not can_publish(request):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            try:
                form_version_publish(version=version, user=request.user)
            except FormVersionError as exc:
                error = exc
            else:
                messages.success(
                    request,
                    gettext("Version %(n)s ist veröffentlicht.") % {"n": version.number},
                )
                return redirect("admin:forms_catalog_formversion_review", version.pk)
        elif version.status not in (FormVersion.Status.APPROVED, FormVersion.Status.SCHEDULED):
            messages.error(
                request, gettext("Nur eine freigegebene Version kann veröffentlicht werden.")
            )
            return redirect("admin:forms_catalog_formversion_review", version.pk)
        base, diff = form_version_diff(version=version)
        current = published_version(service=version.service)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "version": version,
            "base": base,
            "current": current if current and current.pk != version.pk else None,
            "diff": diff,
            "error": error,
            "title": _("Veröffentlichung bestätigen: %(v)s") % {"v": version},
        }
        return TemplateResponse(
            request, "admin/forms_catalog/formversion/publish_confirm.html", context
        )
