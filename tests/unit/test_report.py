"""What the Rasa process marks for counting, and the weekly table built from the counts."""

from __future__ import annotations

from datetime import date

import pytest

from bot import report
from bot.edge.inputs import counted
from bot.rasa.nlg import count_marker
from bot.storage.handoff_store import HandoffStore


@pytest.mark.parametrize(
    "action, reason, marker",
    [
        (
            "utter_safety_plan/legal_status",
            None,
            {"count": "faq", "key": "safety_plan/legal_status"},
        ),
        ("utter_ask_rephrase", None, {"count": "clarification", "key": ""}),
        ("utter_clarify_options", None, {"count": "clarification", "key": ""}),
        ("utter_handoff", "not_covered", {"count": "handoff", "key": "not_covered"}),
        ("utter_question_left", None, {"count": "left", "key": ""}),
        ("utter_welcome", None, None),
        ("utter_crisis_suicidal", None, None),
    ],
)
def test_counted_replies_are_marked_by_name_only(action, reason, marker):
    assert count_marker(action, reason) == marker


def test_the_edge_reads_markers_and_ignores_anything_else():
    replies = [
        {"text": "an answer"},
        {"custom": {"count": "faq", "key": "fgc/what_is"}},
        {"custom": {"crisis": "suicidal"}},
        {"custom": {"count": 3}},
        "not a message",
    ]
    assert counted(replies) == [("faq", "fgc/what_is")]


def test_weeks_are_monday_to_sunday_with_empty_weeks_and_the_share(tmp_path):
    store = HandoffStore(f"sqlite:///{tmp_path / 'h.db'}")
    sunday, monday = date(2025, 6, 8), date(2025, 6, 9)
    store.count_week("faq", "fgc/what_is", sunday)
    store.count_week("handoff", "asked", monday)
    with pytest.raises(ValueError):
        store.count_week("a parent's words", "", monday)
    table = report.weeks(store, 3, date(2025, 6, 11))
    assert [w.start for w in table] == [date(2025, 5, 26), date(2025, 6, 2), date(2025, 6, 9)]
    assert [(w.answered, w.handed_off, w.share_answered) for w in table] == [
        (0, 0, None),
        (1, 0, 100),
        (0, 1, 0),
    ]
    drawn = report.chart(table)
    assert [b.value for b in drawn.bars] == [0, 0, 1, 0, 0, 1]
    assert all(
        0 <= b.y <= drawn.baseline and b.y + b.height == pytest.approx(drawn.baseline)
        for b in drawn.bars
    )


def test_the_nlg_adds_the_marker_and_keeps_a_responses_own_custom():
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.paths import DOMAIN
    from bot.rasa.nlg import SettingsNLG

    domain = Domain.load(str(DOMAIN))
    nlg = SettingsNLG(domain=domain)
    tracker = DialogueStateTracker("t", domain.slots)
    rephrase = asyncio.run(nlg.generate("utter_ask_rephrase", tracker, "rest"))
    assert rephrase["custom"] == {"count": "clarification", "key": ""}
    crisis = [
        name for name, v in domain.responses.items() if (v[0].get("custom") or {}).get("crisis")
    ]
    own = asyncio.run(nlg.generate(crisis[0], tracker, "rest"))
    assert set(own["custom"]) == {"crisis"}
    welcome = asyncio.run(nlg.generate("utter_welcome", tracker, "rest"))
    assert not welcome.get("custom")
