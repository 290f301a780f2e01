"""What the procedures say alike of the parts they share: a code typed, an answer typed, a
new password refused, « Voir la règle complète »."""

from __future__ import annotations

from bot import texts
from bot.procedures.kernel import Outcome, ProcedurePorts, Result
from bot.procedures.reply import Reply, refused
from bot.procedures.view import Row


def code_format(ports: ProcedurePorts, rows: tuple[Row, ...]) -> Reply:
    """A typed code that is not one (a thank-you or a question gets its own word)."""
    return refused(texts.CODE_FORMAT.format(length=ports.settings.code_length), rows, fitting=True)


def code_wrong(result: Result) -> Reply:
    """A wrong code, and what the throttle says."""
    if result.outcome == Outcome.LOCKED:
        return refused(texts.CODE_LOCKED)
    if result.retry_after is not None:
        return refused(texts.wait_before_retry(result.retry_after))
    return refused(texts.CODE_WRONG)


def answer_refused(result: Result) -> Reply | None:
    """An answer to a secret question too short, too long, or not the same twice; None if
    none of these."""
    if result.outcome == Outcome.TOO_SHORT:
        return refused(texts.ANSWER_TOO_SHORT)
    if result.outcome == Outcome.TOO_LONG:
        return refused(texts.ANSWER_TOO_LONG)
    if result.outcome == Outcome.MISMATCH:
        return Reply(intro=texts.ANSWERS_DIFFER)
    return None


def password_refused(ports: ProcedurePorts, result: Result, rows: tuple[Row, ...]) -> Reply:
    """A new password the rule refuses; the refusal keeps « Voir la règle complète » on the
    newest message."""
    return refused(texts.password_refused(result.rules, ports.password_policy), rows, fitting=True)


def full_rule(ports: ProcedurePorts, *, after_provisional: bool = True) -> Reply:
    """« Voir la règle complète »: the rule, the step and its choices where they are."""
    rule = texts.password_rule_full(ports.password_policy, after_provisional=after_provisional)
    return Reply(say=rule, show=False)
