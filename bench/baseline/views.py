"""One form page: GET renders a 12-field Django form, a valid POST inserts one JSON row."""

from __future__ import annotations

import json

from django import forms
from django.core.validators import RegexValidator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

# A raw table (the baseline has no migrations of its own); bench_http.py creates it.
TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_baseline_entry "
    "(id bigserial PRIMARY KEY, data jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


class OwnerForm(forms.Form):
    """Twelve fields of the kinds a Hundeanmeldung asks for."""

    surname = forms.CharField(label="Familienname", max_length=200)
    given_names = forms.CharField(label="Vornamen", max_length=200)
    birth_date = forms.DateField(label="Geburtsdatum", input_formats=["%d.%m.%Y", "%Y-%m-%d"])
    street = forms.CharField(label="Straße und Hausnummer", max_length=200)
    postcode = forms.CharField(
        label="Postleitzahl", validators=[RegexValidator(r"^\d{5}$", "Fünf Ziffern.")]
    )
    city = forms.CharField(label="Ort", max_length=200)
    email = forms.EmailField(label="E-Mail-Adresse")
    phone = forms.CharField(label="Telefon", max_length=40, required=False)
    dog_name = forms.CharField(label="Name des Hundes", max_length=100)
    breed = forms.CharField(label="Rasse", max_length=100)
    sex = forms.ChoiceField(label="Geschlecht", choices=[("ruede", "Rüde"), ("huendin", "Hündin")])
    dangerous = forms.ChoiceField(
        label="Gefährlicher Hund", choices=[("no", "Nein"), ("yes", "Ja")], widget=forms.RadioSelect
    )


def form_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = OwnerForm(request.POST)
        if form.is_valid():
            data = {k: str(v) for k, v in form.cleaned_data.items()}
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_baseline_entry (data) VALUES (%s)", [json.dumps(data)]
                )
            request.session["saved"] = request.session.get("saved", 0) + 1
            return redirect("form")
    else:
        form = OwnerForm(initial=request.session.get("initial"))
    return render(request, "baseline/form.html", {"form": form})
