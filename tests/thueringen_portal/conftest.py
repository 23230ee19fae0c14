"""Fixtures shared with the submissions tests: an office with a form, the local SMTP server."""

from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.support.smtp import smtp_server  # noqa: F401 - fixture
