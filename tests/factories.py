"""factory_boy factories for the core models, shared by all test modules."""

from __future__ import annotations

import datetime
import hashlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from forms_catalog.models import FormVersion, Service
from municipalities.models import Gemeinde, Gemeindeverband, Kreis, Land, Office
from submissions.models import Submission


class LandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Land
        django_get_or_create = ("key",)

    key = "16"
    name = "Thüringen"


class KreisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kreis

    key = factory.Sequence(lambda n: f"16{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"Testkreis {n}")
    kind = Kreis.Kind.LANDKREIS
    land = factory.SubFactory(LandFactory)


class GemeindeverbandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gemeindeverband

    kreis = factory.SubFactory(KreisFactory)
    key = factory.LazyAttributeSequence(lambda o, n: f"{o.kreis.key}{n % 10000:04d}")
    name = factory.Sequence(lambda n: f"VG Testverband {n}")
    kind = Gemeindeverband.Kind.VERWALTUNGSGEMEINSCHAFT


class GemeindeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gemeinde

    verband = factory.SubFactory(GemeindeverbandFactory)
    kreis = factory.SelfAttribute("verband.kreis")
    ags = factory.LazyAttributeSequence(lambda o, n: f"{o.kreis.key}{n % 1000:03d}")
    ars = factory.LazyAttribute(lambda o: f"{o.kreis.key}{o.verband.key[5:]}{o.ags[5:]}")
    name = factory.Sequence(lambda n: f"Testgemeinde {n}")
    kind = Gemeinde.Kind.GEMEINDE
    population = 1000


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office

    name = factory.Sequence(lambda n: f"Testbehörde {n}")
    kind = Office.Kind.MUNICIPAL_ADMINISTRATION
    email = factory.Sequence(lambda n: f"behoerde{n}@example.org")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"leistung-{n}")
    name_de = factory.Sequence(lambda n: f"Leistung {n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")


class FormVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormVersion

    service = factory.SubFactory(ServiceFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = FormVersion.Status.PUBLISHED
    definition = factory.LazyFunction(dict)
    published_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True


class FormEditorFactory(UserFactory):
    """A Kompetenzzentrum member: may edit, review and publish form versions."""

    username = factory.Sequence(lambda n: f"redaktion{n}")

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def editor_permission(self, create, extracted, **kwargs):
        if create:
            self.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label="forms_catalog", codename="publish_formversion"
                )
            )


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    reference = factory.Sequence(lambda n: f"TH-2026-{n:04d}-TEST")
    access_secret_hash = factory.LazyFunction(lambda: hashlib.sha256(b"secret").hexdigest())
    form_version = factory.SubFactory(FormVersionFactory)
    service = factory.SelfAttribute("form_version.service")
    gemeinde = factory.SubFactory(GemeindeFactory)
    answers = factory.LazyFunction(dict)
    applicant_name = "Erika Mustermann"
    applicant_email = "erika@example.org"
    submitted_at = factory.LazyFunction(timezone.now)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)
