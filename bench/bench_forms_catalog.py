"""Form catalogue: compile, cache hit, render, validate and summarise the catalogue forms.

No database needed. Figures only: nothing passes or fails on time.

    .venv/bin/python bench/bench_forms_catalog.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thueringen_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.template.loader import render_to_string  # noqa: E402

from forms_catalog.compiler import CompiledForm  # noqa: E402
from forms_catalog.models import FormVersion  # noqa: E402
from forms_catalog.selectors import compiled_form  # noqa: E402
from forms_catalog.services import definition_checksum  # noqa: E402
from forms_catalog.summary import summarize  # noqa: E402

CATALOGUE = ROOT / "forms_catalog" / "catalogue"

HUND_ANSWERS = {
    "surname": "Schneider", "given_names": "Anna", "birth_date": "1970-01-15",
    "street": "Anger 12", "postcode": "99084", "city": "Erfurt", "email": "anna@example.de",
    "dogs": [
        {"dog_name": f"Hund {i}", "chip_number": f"27609810600000{i}", "birth_date": "2022-03-01",
         "breed": "Labrador", "sex": "ruede", "colour": "schwarz", "keeping_since": "2026-11-15",
         "dangerous": i == 3}
        for i in range(1, 4)
    ],
    "other_address": False, "reduction": "keine", "sepa_mandate": False,
    "truthful": True, "privacy": True,
}  # fmt: skip


def timed(func, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    header = f"{'form':28} {'compile ms':>11} {'cache hit µs':>13} "
    print(header + f"{'render/step ms':>15} {'validate ms':>12}")
    for index, path in enumerate(sorted(CATALOGUE.glob("*.json")), start=1):
        definition = json.loads(path.read_text(encoding="utf-8"))["definition"]
        compile_ms, _ = timed(lambda d=definition: CompiledForm(d), 20)
        version = FormVersion(
            pk=index,
            number=1,
            status=FormVersion.Status.PUBLISHED,
            definition=definition,
            checksum=definition_checksum(definition),
        )
        compiled_form(version=version)
        hit_ms, _ = timed(lambda v=version: compiled_form(version=v), 2000)
        compiled = compiled_form(version=version)

        def render_all(c=compiled):
            for step in c.steps:
                form = c.form_class(step.id)(data={}, prefix=step.id, answers={})
                form.is_valid()
                render_to_string("forms_catalog/step_fields.html", {"form": form})

        render_ms, _ = timed(render_all, 10)
        answers = HUND_ANSWERS if path.stem == "hundeanmeldung" else {}
        validate_ms, _ = timed(lambda c=compiled, a=answers: c.validate_answers(a), 10)
        print(
            f"{path.stem:28} {compile_ms:11.2f} {hit_ms * 1000:13.1f} "
            f"{render_ms / len(compiled.steps):15.2f} {validate_ms:12.2f}"
        )
    compiled = CompiledForm(
        json.loads((CATALOGUE / "hundeanmeldung.json").read_text())["definition"]
    )
    summary_ms, _ = timed(lambda: summarize(compiled, HUND_ANSWERS, "de"), 200)
    print(f"\nsummary of a Hundeanmeldung with 3 dogs: {summary_ms:.2f} ms (median)")
    print("render/step = bind empty data, validate, render the step template (errors shown)")


if __name__ == "__main__":
    main()
