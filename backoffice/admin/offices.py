"""Office leads keep the public contact data of their own offices current, scoped on the server.

A separate page (`OfficeContact`, a proxy of `municipalities.Office`) so that
leads edit only address, phone, e-mail, web and opening hours: name, routing
and delivery settings (notification e-mail, webhook) stay with the platform
administrators in the municipalities admin. Every view resolves objects
through `office_selectors.contact_offices_for_user`: another office is a 404
(`common.ScopedObjectMixin`). Bad input is refused field by field with a German
message; the other typed values stay in the form.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from .. import office_selectors
from ..models import OfficeContact
from .common import InScopeOnlyMixin, ScopedObjectMixin

CONTACT_FIELDS = ["street", "postcode", "city", "phone", "email", "website", "opening_hours"]
OPENING_HOURS_MAX = 1000

# Digits with the usual separators ("0361 655-0", "+49 (361) 655 1234", "0361/6550").
phone_validator = RegexValidator(
    r"^\+?[0-9 ()/\-]*[0-9][0-9 ()/\-]*$",
    message=_(
        "Bitte geben Sie die Telefonnummer nur mit Ziffern, Leerzeichen und den Zeichen "
        "+ ( ) / - an, z. B. 0361 655-0."
    ),
)
postcode_validator = RegexValidator(
    r"^[0-9]{5}$", message=_("Die Postleitzahl besteht aus genau fünf Ziffern.")
)


class OfficeContactForm(forms.ModelForm):
    website = forms.URLField(
        label=OfficeContact._meta.get_field("website").verbose_name,
        required=False,
        max_length=200,
        assume_scheme="https",
    )

    class Meta:
        model = OfficeContact
        fields = CONTACT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["postcode"].validators.append(postcode_validator)
        self.fields["phone"].validators.append(phone_validator)
        self.fields["email"].error_messages["invalid"] = _(
            "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. buergerbuero@stadt.example."
        )
        website = self.fields["website"]
        website.error_messages["invalid"] = _(
            "Bitte geben Sie eine vollständige Webadresse an, die mit https:// beginnt, "
            "z. B. https://www.stadt.example/buergerbuero."
        )
        # Only web pages: no ftp:// or other schemes behind a citizen's click.
        website.validators = [
            URLValidator(schemes=["http", "https"], message=website.error_messages["invalid"])
        ]
        hours = self.fields["opening_hours"]
        hours.max_length = OPENING_HOURS_MAX
        hours.widget.attrs["maxlength"] = str(OPENING_HOURS_MAX)
        hours.widget.attrs["rows"] = 6
        hours.help_text = _("Eine Zeile je Tag oder Zeitraum, z. B. „Mo, Di, Do 9–12 Uhr“.")

    def clean_opening_hours(self) -> str:
        value = self.cleaned_data.get("opening_hours", "")
        if len(value) > OPENING_HOURS_MAX:
            raise forms.ValidationError(
                _("Die Öffnungszeiten dürfen höchstens %(max)d Zeichen lang sein.")
                % {"max": OPENING_HOURS_MAX}
            )
        return value


@admin.register(OfficeContact)
class OfficeContactAdmin(InScopeOnlyMixin, ScopedObjectMixin, admin.ModelAdmin):
    form = OfficeContactForm
    list_display = ["name", "city", "phone", "email"]
    search_fields = ["name", "city"]
    readonly_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (_("Anschrift"), {"fields": ["street", "postcode", "city"]}),
        (_("Erreichbarkeit"), {"fields": ["phone", "email", "website", "opening_hours"]}),
    ]

    def get_queryset(self, request):
        allowed = office_selectors.contact_offices_for_user(user=request.user)
        return super().get_queryset(request).filter(pk__in=allowed.values("pk"))

    def has_add_permission(self, request):
        return False  # offices are created with their routing by the platform administrators

    def has_delete_permission(self, request, obj=None):
        return False

    def _in_scope(self, request) -> bool:
        return office_selectors.contact_offices_for_user(user=request.user).exists()
