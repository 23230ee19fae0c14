"""Office leads set their own local fee parameters in the admin, scoped on the server.

Replaces the superuser-only `municipalities` admin of `LocalFeeParameter`
(municipalities must not know about staff and offices). Every view resolves
objects through `fee_selectors.fee_parameters_for_user`: another office's value
is a 404 on change, delete and history (`common.ScopedObjectMixin`); the
Verband and Gemeinde choices are the user's own, so a forged POST naming
another one is a form error.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

import municipalities.admin as municipalities_admin
from municipalities.model_fees import LocalFeeParameter

from .. import fee_selectors
from .common import InScopeOnlyMixin, ScopedObjectMixin


class LocalFeeParameterForm(forms.ModelForm):
    class Meta:
        model = LocalFeeParameter
        fields = [
            "service",
            "key",
            "value",
            "verband",
            "gemeinde",
            "valid_from",
            "valid_to",
            "note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.declared = {
            service.pk: {p["id"] for p in declared}
            for service, declared in fee_selectors.parameter_services().items()
        }
        if "service" in self.fields:
            self.fields["service"].queryset = self.fields["service"].queryset.filter(
                pk__in=self.declared
            )
        if "key" in self.fields:
            choices = [("", "---------")]
            for service, declared in fee_selectors.parameter_services().items():
                choices.append(
                    (
                        service.name_de,
                        [(p["id"], f"{p['label']['de']} ({p['id']})") for p in declared],
                    )
                )
            self.fields["key"] = forms.ChoiceField(
                label=LocalFeeParameter._meta.get_field("key").verbose_name,
                choices=choices,
                help_text=_("Die Werte, die das veröffentlichte Formular der Leistung vorsieht."),
                error_messages={
                    "invalid_choice": _(
                        "Diesen Schlüssel sieht kein veröffentlichtes Formular vor. "
                        "Bitte wählen Sie einen Wert aus der Liste."
                    )
                },
            )
        if "value" in self.fields:
            self.fields["value"].validators.append(
                MinValueValidator(Decimal("0"), message=_("Der Betrag darf nicht negativ sein."))
            )

    def clean(self):
        cleaned = super().clean()
        service, key = cleaned.get("service"), cleaned.get("key")
        if service is not None and key and key not in self.declared.get(service.pk, set()):
            self.add_error(
                "key",
                _(
                    "Das Formular der Leistung „%(service)s“ sieht den Schlüssel "
                    "„%(key)s“ nicht vor."
                )
                % {"service": service.name_de, "key": key},
            )
        has_verband = cleaned.get("verband") is not None
        has_gemeinde = cleaned.get("gemeinde") is not None
        if has_verband == has_gemeinde and not (
            "verband" in self.errors or "gemeinde" in self.errors
        ):
            raise forms.ValidationError(
                _("Bitte wählen Sie entweder einen Gemeindeverband oder eine Gemeinde.")
            )
        return cleaned


if admin.site.is_registered(LocalFeeParameter):
    admin.site.unregister(LocalFeeParameter)


@admin.register(LocalFeeParameter)
class ScopedLocalFeeParameterAdmin(
    InScopeOnlyMixin, ScopedObjectMixin, municipalities_admin.LocalFeeParameterAdmin
):
    form = LocalFeeParameterForm

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        allowed = fee_selectors.fee_parameters_for_user(user=request.user)
        return queryset.filter(pk__in=allowed.values("pk"))

    def get_autocomplete_fields(self, request):
        # Leads pick from their own short lists; the autocomplete endpoints of
        # Verband and Gemeinde are not theirs to query.
        scope = fee_selectors.fee_scope_for_user(user=request.user)
        return super().get_autocomplete_fields(request) if scope.everything else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "verband":
            kwargs["queryset"] = fee_selectors.fee_verbaende_for_user(user=request.user)
        elif db_field.name == "gemeinde":
            kwargs["queryset"] = fee_selectors.fee_gemeinden_for_user(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request) -> bool:
        return not fee_selectors.fee_scope_for_user(user=request.user).empty
