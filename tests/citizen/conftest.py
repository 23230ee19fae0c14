"""Fixtures shared with the submissions tests, and the live portal of the journey tests."""

from tests.citizen.journey_driver import live_portal, pipeline_worker  # noqa: F401 - fixtures
from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.support.webhook import webhook_receiver  # noqa: F401 - fixture
