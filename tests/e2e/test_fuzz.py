"""Fuzzing the conversation end to end (issue 12, point 7): users walked to every state of
every procedure, then about 1,000 inputs drawn by hypothesis (see :mod:`fuzz`); no input may
reach the error handler, every input gets an answer.

``FUZZ_EXAMPLES`` (hypothesis examples, one round of one input per state each; 31 by default)
raises the count; ``bench/bench_fuzz.py`` runs 10,000 inputs and prints what it finds.
"""

from __future__ import annotations

import os
from pathlib import Path

from fuzz import STATES, run_fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "31"))


def test_fuzzed_inputs_in_every_state_never_crash_and_always_get_an_answer(
    tmp_path: Path,
) -> None:
    rig = run_fuzz(tmp_path, EXAMPLES)
    assert rig.states_reached == set(STATES)
    assert rig.inputs >= EXAMPLES * len(STATES) * 0.9
    report = rig.report()
    assert not rig.errors.unhandled, "\n".join(rig.errors.unhandled[:10]) + "\n" + report
    assert not rig.findings, report
