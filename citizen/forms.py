"""Small forms of the citizen pages (not the catalogue forms, which forms_catalog compiles)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from forms_catalog.validators import nul_in_field_names


class PortalForm(forms.Form):
    """Adds the KERN UX classes to every widget, so templates stay plain."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "kern-form-check__checkbox")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "kern-form-input__select")
            else:
                widget.attrs.setdefault("class", "kern-form-input__input")

    def clean(self):
        # Values are refused by each field (Django's CharField refuses NUL); a NUL in a
        # field name reaches no field, so it is refused here for every form of the portal.
        if self.is_bound and nul_in_field_names(self.data):
            raise forms.ValidationError(
                _(
                    "Die Anfrage enthielt unzulässige Steuerzeichen und wurde nicht "
                    "verarbeitet. Bitte prüfen Sie Ihre Angaben und senden Sie sie erneut ab."
                ),
                code="control_chars_names",
            )
        return super().clean()


class FeedbackForm(PortalForm):
    message = forms.CharField(
        label=_("Ihre Nachricht"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Beschreiben Sie, welche Inhalte oder Funktionen für Sie nicht zugänglich sind."
        ),
    )
    page_url = forms.CharField(
        label=_("Betroffene Seite"),
        max_length=500,
        required=False,
        help_text=_("Zum Beispiel die Adresse der Seite oder der Name des Formulars."),
    )
    email = forms.EmailField(
        label=_("E-Mail-Adresse für eine Antwort"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class StatusLookupForm(PortalForm):
    reference = forms.CharField(
        label=_("Aktenzeichen"),
        max_length=40,
        help_text=_("Steht in der Eingangsbestätigung, zum Beispiel TH-2026-7K3M-Q9XD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    secret = forms.CharField(
        label=_("Zugangscode"),
        max_length=200,
        help_text=_(
            "Wurde Ihnen nach dem Absenden einmal angezeigt. Verloren? Sie können einen neuen "
            "an Ihre E-Mail-Adresse schicken lassen."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()

    def clean_secret(self) -> str:
        return self.cleaned_data["secret"].strip()


class AccessCodeLostForm(PortalForm):
    reference = forms.CharField(
        label=_("Aktenzeichen"),
        max_length=40,
        help_text=_("Steht in der Eingangsbestätigung, zum Beispiel TH-2026-7K3M-Q9XD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()


class WithdrawalForm(PortalForm):
    reason = forms.CharField(
        label=_("Grund für die Rücknahme"),
        required=False,
        max_length=1000,
        help_text=_("Freiwillig. Die Behörde sieht, was Sie hier schreiben."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SaveForLaterForm(PortalForm):
    email = forms.EmailField(
        label=_("E-Mail-Adresse"),
        required=False,
        max_length=254,
        help_text=_("Wenn Sie möchten, senden wir Ihnen den Link zum Fortsetzen per E-Mail."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class DeclarationForm(PortalForm):
    declaration = forms.BooleanField(
        label=_(
            "Ich versichere, dass meine Angaben vollständig und richtig sind. Mir ist bekannt, "
            "dass falsche Angaben rechtliche Folgen haben können."
        ),
        error_messages={"required": _("Bitte bestätigen Sie die Erklärung.")},
    )
