"""Back-office test fixtures; the case and form set-up is shared with the submissions tests."""

from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
