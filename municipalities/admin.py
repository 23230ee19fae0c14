"""Admin for the administrative structure, offices, responsibility and local fees.

Official units (Land, Kreis, Verband, Gemeinde) come from the GV100AD import:
their keys and names are read-only here, so a re-import stays the single
source of truth. Offices, rules, exceptions and fee values are staff data.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from municipalities.models import (
    DataEdition,
    Gemeinde,
    GemeindeAlias,
    Gemeindeverband,
    Kreis,
    Land,
    LocalFeeParameter,
    Office,
    Postcode,
    ResponsibilityException,
    ResponsibilityRule,
)
from municipalities.services import municipal_data_changed


class CurrentFilter(admin.SimpleListFilter):
    title = _("Gültigkeit")
    parameter_name = "gueltig"

    def lookups(self, request, model_admin):
        return [("aktuell", _("aktuell gültig")), ("aufgeloest", _("nicht mehr gültig"))]

    def queryset(self, request, queryset):
        if self.value() == "aktuell":
            return queryset.current()
        if self.value() == "aufgeloest":
            return queryset.exclude(pk__in=queryset.current().values("pk"))
        return queryset


class OfficialDataAdmin(admin.ModelAdmin):
    """Imported from the official file: viewable, not editable by hand."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Land)
class LandAdmin(OfficialDataAdmin):
    list_display = ["key", "name", "valid_from", "valid_to"]


@admin.register(Kreis)
class KreisAdmin(OfficialDataAdmin):
    list_display = ["key", "name", "kind", "seat", "valid_from", "valid_to"]
    list_filter = ["kind", CurrentFilter]
    search_fields = ["key", "name", "seat"]
    list_select_related = ["land"]


@admin.register(Gemeindeverband)
class GemeindeverbandAdmin(OfficialDataAdmin):
    list_display = ["key", "name", "kind", "kreis", "serving_gemeinde", "valid_from", "valid_to"]
    list_filter = ["kind", CurrentFilter, "kreis"]
    search_fields = ["key", "name", "seat"]
    list_select_related = ["kreis", "serving_gemeinde"]


@admin.register(Gemeinde)
class GemeindeAdmin(OfficialDataAdmin):
    list_display = ["ags", "name", "kind", "verband", "kreis", "population", "valid_to"]
    list_filter = ["kind", CurrentFilter, "kreis", "verband__kind"]
    search_fields = ["ags", "ars", "name", "postcodes__code"]
    list_select_related = ["kreis", "verband"]
    show_full_result_count = False


@admin.register(Postcode)
class PostcodeAdmin(admin.ModelAdmin):
    list_display = ["code", "gemeinde"]
    search_fields = ["code", "gemeinde__name", "gemeinde__ags"]
    list_select_related = ["gemeinde"]
    autocomplete_fields = ["gemeinde"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        municipal_data_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        municipal_data_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        municipal_data_changed()


class DataChangeAdmin(admin.ModelAdmin):
    """Every write invalidates the search index (see services.municipal_data_changed)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        municipal_data_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        municipal_data_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        municipal_data_changed()


@admin.register(GemeindeAlias)
class GemeindeAliasAdmin(DataChangeAdmin):
    list_display = ["name", "kind", "gemeinde", "valid_from", "valid_to"]
    list_filter = ["kind", CurrentFilter]
    search_fields = ["name", "gemeinde__name", "gemeinde__ags"]
    list_select_related = ["gemeinde"]
    autocomplete_fields = ["gemeinde"]
    fields = ["name", "kind", "gemeinde", "valid_from", "valid_to"]


class OfficeForm(forms.ModelForm):
    """The office form; the FIT-Connect client secret is write-only."""

    fitconnect_client_secret = forms.CharField(
        label=_("FIT-Connect: Client-Secret des Senders"),
        required=False,
        max_length=500,
        strip=False,
        # Never rendered back into the page: an empty field keeps the stored secret.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Wird aus Sicherheitsgründen nicht angezeigt. Leer lassen, um das gespeicherte "
            "Secret zu behalten."
        ),
    )
    fitconnect_client_secret_clear = forms.BooleanField(
        label=_("FIT-Connect: gespeichertes Client-Secret löschen"), required=False
    )

    class Meta:
        model = Office
        fields = [
            "name",
            "kind",
            "verband",
            "kreis",
            "is_active",
            "street",
            "postcode",
            "city",
            "email",
            "phone",
            "website",
            "opening_hours",
            "notification_email",
            "webhook_url",
            "webhook_secret",
            "fitconnect_destination_id",
            "fitconnect_client_id",
            "fitconnect_client_secret",
            "fitconnect_token_url",
            "fitconnect_submission_api_url",
        ]

    def clean_fitconnect_client_secret(self) -> str:
        secret = self.cleaned_data.get("fitconnect_client_secret") or ""
        if not secret and self.instance.pk:
            return self.instance.fitconnect_client_secret
        return secret

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("fitconnect_client_secret_clear"):
            cleaned["fitconnect_client_secret"] = ""
        return cleaned


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    form = OfficeForm
    list_display = ["name", "kind", "verband", "kreis", "email", "is_active"]
    list_filter = ["kind", "is_active", "kreis", "verband__kreis"]
    search_fields = ["name", "city", "email", "verband__name", "kreis__name"]
    list_select_related = ["verband", "kreis"]
    autocomplete_fields = ["verband", "kreis"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "verband", "kreis", "is_active"]}),
        (
            _("Kontakt"),
            {
                "fields": [
                    "street",
                    "postcode",
                    "city",
                    "email",
                    "phone",
                    "website",
                    "opening_hours",
                ]
            },
        ),
        (
            _("Übermittlung"),
            {"fields": ["notification_email", "webhook_url", "webhook_secret"]},
        ),
        (
            _("FIT-Connect"),
            {
                "description": _(
                    "Zustellung in das Fachverfahren der Behörde über FIT-Connect: alle fünf "
                    "Angaben sind nötig (siehe docs/fit-connect.md)."
                ),
                "fields": [
                    "fitconnect_destination_id",
                    "fitconnect_client_id",
                    "fitconnect_client_secret",
                    "fitconnect_client_secret_clear",
                    "fitconnect_token_url",
                    "fitconnect_submission_api_url",
                ],
            },
        ),
    ]


class ValidityAdmin(admin.ModelAdmin):
    list_filter = [CurrentFilter, "service"]


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(ValidityAdmin):
    list_display = ["service", "level", "valid_from", "valid_to", "legal_basis"]
    search_fields = ["service__name_de", "service__slug", "legal_basis"]
    list_select_related = ["service"]


@admin.register(ResponsibilityException)
class ResponsibilityExceptionAdmin(ValidityAdmin):
    list_display = ["service", "gemeinde", "office", "valid_from", "valid_to", "legal_basis"]
    search_fields = ["gemeinde__name", "gemeinde__ags", "office__name", "service__slug"]
    list_select_related = ["service", "gemeinde", "office"]
    autocomplete_fields = ["gemeinde", "office"]


@admin.register(LocalFeeParameter)
class LocalFeeParameterAdmin(ValidityAdmin):
    list_display = ["service", "key", "value", "verband", "gemeinde", "valid_from", "valid_to"]
    search_fields = ["key", "verband__name", "gemeinde__name", "gemeinde__ags", "note"]
    list_select_related = ["service", "verband", "gemeinde"]
    autocomplete_fields = ["verband", "gemeinde"]


@admin.register(DataEdition)
class DataEditionAdmin(OfficialDataAdmin):
    list_display = ["source", "gebietsstand", "file_name", "imported_at"]
    list_filter = ["source"]
