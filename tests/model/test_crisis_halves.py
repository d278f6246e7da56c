"""Issue 17: crisis recall and safe-set precision per half, through the trained model's full
NLU pipeline (tools/crisis_eval.py measures; `make eval` prints the same figures).

Recall counts a crisis message caught when it gets its own category's crisis answer or
check-in. The tune half (tests/nlu/crisis) is what the patterns were tuned on; the
unforeseen half (tests/nlu_final/crisis) was never read while tuning and was measured
once, with the final patterns (README, "Measured figures"). The issue's target for the
unforeseen half is 100% recall and >= 97% precision; it is not met. Its floors below are
the measured figures, so a change that loses any of them fails; raise them as the
patterns improve, never lower them.
"""

from __future__ import annotations

import pytest

from tools import crisis_eval

TUNE_RECALL = 1.0
REQUIRED_PRECISION = 0.97
# Floors a little under what the model `make test` trains measured on 2026-11-29 (32 of
# 105 caught: strong 27, check-in 5; 66 of 69 safe, 95.7%), not the targets
# (105/105 and >= 97%), which are not met.
UNFORESEEN_CAUGHT_FLOOR = 30  # of 105
UNFORESEEN_SAFE_FLOOR = 65  # of 69 kept safe


@pytest.fixture(scope="module")
def halves(nlu):
    return {
        name: crisis_eval.measure(nlu, name, folder) for name, folder in crisis_eval.HALVES.items()
    }


def test_the_tune_half_is_caught_and_its_safe_set_stays_clean(halves):
    tune = halves["tune"]
    print("\n" + "\n".join(tune.lines()))
    assert tune.crisis_total >= 274 and tune.safe_total >= 212
    assert tune.recall >= TUNE_RECALL, "missed:\n" + "\n".join(tune.misses)
    assert tune.precision >= REQUIRED_PRECISION, "false alarms:\n" + "\n".join(tune.alarms)


def test_the_unforeseen_half_keeps_its_measured_floor(halves):
    """Counts only: the unforeseen half's texts are never printed."""
    unforeseen = halves["unforeseen"]
    print("\n" + "\n".join(unforeseen.lines()))
    assert unforeseen.crisis_total == 105 and unforeseen.safe_total == 69
    caught = unforeseen.outcomes["strong"] + unforeseen.outcomes["checkin"]
    assert caught >= UNFORESEEN_CAUGHT_FLOOR
    assert unforeseen.safe_total - len(unforeseen.alarms) >= UNFORESEEN_SAFE_FLOOR
