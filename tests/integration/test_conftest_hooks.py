# SPDX-License-Identifier: GPL-2.0-or-later
"""The harness's own hooks (conftest.py). Regression: a second pytest_runtest_makereport in
conftest.py replaced the first, so a failed test never got its cluster's logs attached
(_report_logs found no rep_call on the item)."""
import pytest


@pytest.fixture
def phase_reports(request):
    yield
    # Teardown runs after the call phase's report was made: the hook must have kept it.
    call = getattr(request.node, "rep_call", None)
    assert call is not None, "pytest_runtest_makereport did not keep rep_call on the item"
    assert call.passed
    assert getattr(request.node, "rep_setup").passed


def test_each_phase_report_is_kept_on_the_item_for_the_failure_logs(phase_reports):
    pass
