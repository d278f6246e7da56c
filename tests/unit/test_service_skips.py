"""A PostgreSQL or Redis test that cannot reach its service skips, saying why; under CI=true
(where both services are started before the suite) it fails instead."""

from __future__ import annotations

import pytest
from _pytest.outcomes import Failed, Skipped

from tests.support.services import in_ci, skip_or_fail

REASON = "PostgreSQL not reachable at 127.0.0.1:5432: refused"


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_outside_ci_a_missing_service_is_a_skip_with_the_reason(monkeypatch, capsys, value) -> None:
    monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(Skipped, match=REASON):
        skip_or_fail(REASON)
    assert f"SKIP: {REASON}" in capsys.readouterr().out


def test_without_the_variable_it_is_a_skip(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped):
        skip_or_fail(REASON)


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_under_ci_a_missing_service_fails_with_the_reason(monkeypatch, value) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(Failed, match=f"CI=true.*{REASON}"):
        skip_or_fail(REASON)
