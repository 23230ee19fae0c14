"""Fixtures shared with the submissions tests: an office with a form, the local outside systems."""

from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.support.webhook import webhook_receiver  # noqa: F401 - fixture
