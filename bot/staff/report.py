"""What staff read about accounts, laid out from the service's data and the labels of
:mod:`bot.texts.staff`: one account, its audit trail, the activation funnel. Plain text for the
terminal; ``*_html`` for a staff chat. Never a secret."""

from __future__ import annotations

from html import escape

from bot.staff.service import AccountReport, Funnel
from bot.texts import staff as staff_texts
from bot.texts.formatting import TELEGRAM_TEXT_LIMIT, aligned, when
from storage.staff import AuditEvent


def account_fields(report: AccountReport) -> list[tuple[str, str]]:
    """(label, value) of an account, in the order of ``STAFF_REPORT_LABELS``."""
    lock = report.lock
    none = staff_texts.STAFF_NONE
    values = {
        "identifiant": report.identifiant,
        "nom": f"{report.prenom} {report.nom}".strip() or none,
        "profil": report.profil,
        "etablissement": report.etablissement or none,
        "status": staff_texts.STAFF_STATUS.get(report.status, report.status),
        "step": staff_texts.STAFF_STEPS.get(report.step, report.step),
        "recovery": staff_texts.STAFF_RECOVERY.get(
            report.recovery or "", staff_texts.STAFF_NO_RECOVERY
        ),
        "email": report.email_masked or none,
        "telegram": staff_texts.staff_telegram(report.telegram_user_id),
        "imported_at": when(report.imported_at),
        "updated_at": when(report.updated_at),
        "cgu_accepted_at": when(report.cgu_accepted_at),
        "activated_at": when(report.activated_at),
        "procedure_updated_at": when(report.procedure_updated_at),
        "last_letter_at": when(report.last_letter_at),
        "last_reset_at": when(report.last_reset_at),
        "lock": staff_texts.staff_lock(lock.locked, lock.locked_at, lock.retry_after),
        "failures": staff_texts.staff_failures(lock.consecutive_failures, lock.failures_last_24h),
    }
    return [(label, values[key]) for key, label in staff_texts.STAFF_REPORT_LABELS.items()]


def account_text(report: AccountReport) -> str:
    """An account for the terminal."""
    return aligned(account_fields(report))


def account_html(report: AccountReport) -> str:
    """An account for a staff chat."""
    return f"{staff_texts.STAFF_REPORT_TITLE_HTML}\n" + "\n".join(
        f"<b>{escape(label)}</b> : {escape(value)}" for label, value in account_fields(report)
    )


def history_text(identifiant: str, events: list[AuditEvent]) -> str:
    """The audit trail of an account, oldest first."""
    if not events:
        return staff_texts.STAFF_HISTORY_EMPTY.format(identifiant=identifiant)
    lines = [staff_texts.STAFF_HISTORY_TITLE.format(identifiant=identifiant)]
    lines += [
        staff_texts.staff_history_line(event.at, event.event, event.actor, event.details)
        for event in events
    ]
    return "\n".join(lines)


def _table(title: str, groups: dict[str, dict[str, int]]) -> list[str]:
    """One funnel table: a row per group, a column per stage (11 characters each)."""
    stages = list(staff_texts.STAFF_FUNNEL_STAGES)
    width = max([len(title), *(len(name) for name in groups)])
    out = [title.ljust(width) + "".join(head.rjust(11) for head in staff_texts.STAFF_FUNNEL_HEADS)]
    for name, counts in groups.items():
        out.append(name.ljust(width) + "".join(str(counts[s]).rjust(11) for s in stages))
    return out


def funnel_text(funnel: Funnel) -> str:
    """The activation funnel as fixed-width tables (terminal, or <pre> in Telegram)."""
    total = funnel.total
    lines = [staff_texts.STAFF_FUNNEL_TITLE, ""]
    lines += [
        staff_texts.staff_funnel_stage(label, getattr(total, stage), total.imported)
        for stage, label in staff_texts.STAFF_FUNNEL_STAGES.items()
    ]
    for group, title in staff_texts.STAFF_FUNNEL_GROUPS.items():
        lines += ["", *_table(title, funnel.by(group))]
    return "\n".join(lines)


def funnel_html(funnel: Funnel) -> str:
    """The funnel for a staff chat, cut to fit one message."""
    table = funnel_text(funnel)
    if len(table) > TELEGRAM_TEXT_LIMIT - 200:
        table = table[: TELEGRAM_TEXT_LIMIT - 200] + staff_texts.STAFF_FUNNEL_CUT
    return f"{staff_texts.STAFF_FUNNEL_TITLE_HTML}\n<pre>{escape(table)}</pre>"
