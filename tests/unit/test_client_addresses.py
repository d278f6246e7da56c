"""Client addresses behind a proxy: EDGE_PROXIES_COUNT, the warning when it is left at 0,
IPv6 counted by /64, and adviser sign-in limited per address with a back-off."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Iterator

import pytest
import requests

from bot import settings
from bot.edge import inbox
from bot.edge.app import ADDRESS_LIMIT_FACTOR, FORWARDED_WARNING, create_app, proxies_count
from bot.edge.ratelimit import Backoff, client_key
from bot.paths import PROJECT_ROOT
from tests.support.servers import BackgroundApp

SECRET = "correct horse battery staple 42"


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:3::1]", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("", "unknown"),
        (None, "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_client_key(address, key) -> None:
    assert client_key(address) == key


def test_backoff_grows_after_the_free_failures_and_a_success_clears_it() -> None:
    now = [100.0]
    backoff = Backoff(free=2, first=2.0, longest=10.0, clock=lambda: now[0])
    for _ in range(2):
        assert backoff.wait("a") == 0
        backoff.failed("a")
    assert backoff.wait("a") == 2.0  # 2 s after the 2nd failure
    now[0] += 2.0
    assert backoff.wait("a") == 0
    backoff.failed("a")
    assert backoff.wait("a") == 4.0  # doubled
    for _ in range(5):
        backoff.failed("a")
    assert backoff.wait("a") == 10.0  # capped
    assert backoff.wait("b") == 0  # another address is not held back
    backoff.succeeded("a")
    assert backoff.wait("a") == 0


@pytest.mark.parametrize("raw, count", [("", 0), ("0", 0), ("1", 1), (" 2 ", 2)])
def test_proxies_count(raw, count) -> None:
    assert proxies_count({"EDGE_PROXIES_COUNT": raw}) == count
    assert proxies_count({}) == 0


@pytest.mark.parametrize("raw", ["one", "-1", "1.5"])
def test_a_bad_proxies_count_is_refused(raw) -> None:
    with pytest.raises(ValueError, match="EDGE_PROXIES_COUNT"):
        proxies_count({"EDGE_PROXIES_COUNT": raw})


def _edge(fake_rasa, env):
    return create_app(settings.load(), rasa=fake_rasa, name=f"edge_{uuid.uuid4().hex[:8]}", env=env)


def test_forwarded_for_with_no_trusted_proxy_warns_once(fake_rasa, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.edge.app")
    with BackgroundApp(_edge(fake_rasa, {})) as app:
        requests.get(f"{app.url}/healthz", timeout=10)
        assert not _forwarded_warnings(caplog)
        for n in range(3):
            requests.get(
                f"{app.url}/healthz", headers={"X-Forwarded-For": f"192.0.2.{n}"}, timeout=10
            )
    # Counted by record, not by text: in a process where bot.rasa's log scrubbing is
    # installed (this test run), a phrase of the warning may be scrubbed if an earlier
    # test's message held the same three words.
    assert len(_forwarded_warnings(caplog)) == 1


def _forwarded_warnings(caplog) -> list:
    return [
        r
        for r in caplog.records
        if r.name == "bot.edge.app"
        and r.levelno == logging.WARNING
        and FORWARDED_WARNING.split(":")[0] in r.getMessage()
    ]


def test_forwarded_for_with_a_trusted_proxy_does_not_warn(fake_rasa, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.edge.app")
    with BackgroundApp(_edge(fake_rasa, {"EDGE_PROXIES_COUNT": "1"})) as app:
        requests.get(f"{app.url}/healthz", headers={"X-Forwarded-For": "192.0.2.1"}, timeout=10)
    assert not _forwarded_warnings(caplog)


def test_the_deployment_checklist_names_the_proxy_count() -> None:
    security = (PROJECT_ROOT / "SECURITY.md").read_text(encoding="utf-8")
    checklist = security.split("### Operator's checklist", 1)[1].split("\n## ", 1)[0]
    assert "EDGE_PROXIES_COUNT" in checklist


def test_ipv6_addresses_of_one_64_share_a_message_bucket(fake_rasa, monkeypatch) -> None:
    limit = settings.load().edge.rate_limit_per_minute * ADDRESS_LIMIT_FACTOR
    with BackgroundApp(_edge(fake_rasa, {"EDGE_PROXIES_COUNT": "1"})) as app:
        codes = [
            requests.post(
                f"{app.url}/api/session",
                headers={"X-Forwarded-For": f"2001:db8:5:6::{n:x}"},
                timeout=10,
            ).status_code
            for n in range(1, limit + 2)
        ]
        other = requests.post(
            f"{app.url}/api/session", headers={"X-Forwarded-For": "2001:db8:5:7::1"}, timeout=10
        )
    assert codes == [201] * limit + [429]
    assert other.status_code == 201


@pytest.fixture
def inbox_edge(fake_rasa, tmp_path, monkeypatch) -> Iterator[BackgroundApp]:
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    env = {"ADVISER_SECRET": SECRET, "EDGE_PROXIES_COUNT": "1", "EDGE_LOCAL_DEV": "1"}
    with BackgroundApp(_edge(fake_rasa, env)) as running:
        yield running


def _try_secret(app: BackgroundApp, secret: str, address: str) -> requests.Response:
    browser = requests.Session()
    form = browser.get(f"{app.url}/adviser", headers={"X-Forwarded-For": address}, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    return browser.post(
        f"{app.url}/adviser/sign-in",
        data={"csrf": csrf.group(1), "secret": secret},
        headers={"X-Forwarded-For": address},
        timeout=10,
        allow_redirects=False,
    )


def test_wrong_secrets_slow_down_that_address_only(inbox_edge) -> None:
    attacker, adviser = "203.0.113.66", "198.51.100.10"
    codes = [
        _try_secret(inbox_edge, "wrong secret", attacker).status_code
        for _ in range(inbox.SIGNIN_FREE_FAILURES + 1)
    ]
    assert codes == [403] * inbox.SIGNIN_FREE_FAILURES + [429]
    refused = _try_secret(inbox_edge, SECRET, attacker)  # even the right one must wait
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    # The adviser at another address signs in at once.
    assert _try_secret(inbox_edge, SECRET, adviser).status_code == 303


def test_the_per_minute_limit_is_per_address(inbox_edge) -> None:
    for _ in range(inbox.SIGNIN_ATTEMPTS_PER_MINUTE):
        requests.post(
            f"{inbox_edge.url}/adviser/sign-in",
            data={"secret": "x"},
            headers={"X-Forwarded-For": "203.0.113.77"},
            timeout=10,
        )
    blocked = requests.post(
        f"{inbox_edge.url}/adviser/sign-in",
        data={"secret": "x"},
        headers={"X-Forwarded-For": "203.0.113.77"},
        timeout=10,
    )
    assert blocked.status_code == 429
    assert _try_secret(inbox_edge, SECRET, "198.51.100.11").status_code == 303
