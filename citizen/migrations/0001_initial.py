"""AccessibilityFeedback moves here from `submissions`: state only, the table stays.

The table `submissions_accessibilityfeedback` and its rows are kept as they
are; only Django's idea of which app owns the model changes (the matching
state-only removal is `submissions.0008_accessibility_feedback_to_citizen`).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    # Only the migration that created the table: depending on the submissions
    # leaf would pull `submissions.0003_staff_roles` ahead of the fee parameter
    # models of `municipalities` on a fresh database (its data migration needs
    # their permissions and does not declare that dependency).
    dependencies = [
        ("submissions", "0002_accessibility_feedback"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessibilityFeedback",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("message", models.TextField(verbose_name="Nachricht")),
                        (
                            "page_url",
                            models.CharField(
                                blank=True,
                                default="",
                                max_length=500,
                                verbose_name="Betroffene Seite",
                            ),
                        ),
                        (
                            "email",
                            models.EmailField(
                                blank=True, default="", max_length=254, verbose_name="E-Mail"
                            ),
                        ),
                        ("language", models.CharField(default="de", max_length=8)),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="eingegangen am"),
                        ),
                        ("handled", models.BooleanField(default=False, verbose_name="erledigt")),
                    ],
                    options={
                        "verbose_name": "Rückmeldung zur Barrierefreiheit",
                        "verbose_name_plural": "Rückmeldungen zur Barrierefreiheit",
                        "ordering": ["-created_at"],
                        "db_table": "submissions_accessibilityfeedback",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
