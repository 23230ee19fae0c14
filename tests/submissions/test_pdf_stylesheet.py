"""The PDF stylesheet is parsed once per process and re-read only when its file changes."""

from __future__ import annotations

import os
import shutil

from django.contrib.staticfiles import finders

from submissions import pdf


def test_the_parsed_stylesheet_is_reused_while_its_file_is_unchanged():
    first = pdf.pdf_stylesheet()
    assert first is not None
    assert pdf.pdf_stylesheet() is first


def test_a_changed_stylesheet_file_is_parsed_again(settings, tmp_path):
    """Regression guard: the per-process stylesheet must follow a new deployment's file."""
    root = tmp_path / "static"
    (root / "submissions").mkdir(parents=True)
    copy = root / "submissions" / "pdf.css"
    shutil.copy(finders.find(pdf.STYLESHEET), copy)
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    before = pdf.pdf_stylesheet()
    assert pdf.static_file_for(pdf.stylesheet_url()) == copy
    copy.write_text(copy.read_text() + "\n/* changed */\n")
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = pdf.pdf_stylesheet()
    assert after is not None and after is not before
    assert pdf.pdf_stylesheet() is after
