"""The back office's models, moved from `submissions` without touching their tables."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('municipalities', '0002_editions_fees_serving_gemeinde'),
        ('submissions', '0007_staff_profile_initial_password'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The models existed in `submissions` with these tables (db_table); only
    # Django's model state moves here, no table is created or copied. The
    # state-only delete on the submissions side is submissions 0008.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='StaffProfile',
                    fields=[
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='staff_profile', serialize=False, to=settings.AUTH_USER_MODEL, verbose_name='Benutzer/in')),
                        ('initial_password_issued_at', models.DateTimeField(blank=True, null=True, verbose_name='Erstpasswort ausgegeben am')),
                    ],
                    options={
                        'verbose_name': 'Sicherheitsstatus des Kontos',
                        'verbose_name_plural': 'Sicherheitsstatus der Konten',
                        'db_table': 'submissions_staffprofile',
                    },
                ),
                migrations.CreateModel(
                    name='CaseNote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('text', models.TextField(verbose_name='Notiz')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('purged_at', models.DateTimeField(blank=True, null=True)),
                        ('author', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='submissions.submission')),
                    ],
                    options={
                        'verbose_name': 'interne Notiz',
                        'verbose_name_plural': 'interne Notizen',
                        'db_table': 'submissions_casenote',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='StatusNotification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('recipient', models.EmailField(blank=True, default='', max_length=254)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('last_error', models.TextField(blank=True, default='')),
                        ('event', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification', to='submissions.submissionevent')),
                    ],
                    options={
                        'verbose_name': 'Statusbenachrichtigung',
                        'verbose_name_plural': 'Statusbenachrichtigungen',
                        'db_table': 'submissions_statusnotification',
                    },
                ),
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='Zeitpunkt')),
                        ('actor_username', models.CharField(blank=True, default='', max_length=150, verbose_name='Benutzername')),
                        ('action', models.CharField(choices=[('view_list', 'Liste angesehen'), ('view_case', 'Antrag angesehen'), ('view_history', 'Änderungsprotokoll angesehen'), ('transition', 'Status geändert'), ('assign', 'zugewiesen'), ('add_note', 'Notiz hinzugefügt'), ('export', 'exportiert'), ('download_pdf', 'PDF heruntergeladen'), ('download_attachment', 'Anhang heruntergeladen'), ('view_statistics', 'Statistik angesehen'), ('purge', 'personenbezogene Daten gelöscht'), ('change_retention', 'Aufbewahrungsfrist geändert'), ('unlock_account', 'Kontosperre aufgehoben')], max_length=30, verbose_name='Aktion')),
                        ('reference', models.CharField(blank=True, default='', max_length=20, verbose_name='Aktenzeichen')),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP-Adresse')),
                        ('detail', models.TextField(blank=True, default='', verbose_name='Details')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='Benutzer/in')),
                        ('office', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='municipalities.office', verbose_name='Behörde')),
                        ('submission', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit_entries', to='submissions.submission', verbose_name='Antrag')),
                    ],
                    options={
                        'verbose_name': 'Protokolleintrag',
                        'verbose_name_plural': 'Zugriffsprotokoll',
                        'db_table': 'submissions_auditentry',
                        'ordering': ['-created_at', '-id'],
                        'default_permissions': ('view',),
                        'indexes': [models.Index(fields=['submission', 'created_at'], name='audit_submission_idx'), models.Index(fields=['office', 'created_at'], name='audit_office_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='StaffMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('clerk', 'Sachbearbeitung'), ('lead', 'Amtsleitung'), ('kompetenzzentrum', 'Kompetenzzentrum'), ('platform', 'Plattform-Administration')], max_length=20, verbose_name='Rolle')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('office', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='staff_memberships', to='municipalities.office', verbose_name='Behörde')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='staff_memberships', to=settings.AUTH_USER_MODEL, verbose_name='Benutzer/in')),
                    ],
                    options={
                        'verbose_name': 'Behördenzugehörigkeit',
                        'verbose_name_plural': 'Behördenzugehörigkeiten',
                        'db_table': 'submissions_staffmembership',
                        'ordering': ['user__username', 'office__name'],
                        'permissions': [('work_cases', 'Kann Anträge der eigenen Behörde bearbeiten'), ('assign_cases', 'Kann Anträge Sachbearbeiter/innen zuweisen'), ('export_cases', 'Kann Anträge als CSV exportieren'), ('view_office_statistics', 'Kann die Übersicht der eigenen Behörde sehen'), ('view_statewide_statistics', 'Kann die landesweite Statistik sehen')],
                        'constraints': [models.UniqueConstraint(fields=('user', 'office', 'role'), name='unique_staff_membership')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
