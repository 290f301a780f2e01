"""How well each quote-stripping library keeps only the person's words in French replies
(README « Conversations par e-mail »): the samples of tests/unit/mail_in_samples.py, each
library's count of exact results, then the bot's own ``strip_quotes``.

In a scratch virtual environment (talon pulls scikit-learn and is not a dependency):

    python3 -m venv /tmp/quotes && /tmp/quotes/bin/pip install -e . \\
        mail-parser-reply email-reply-parser talon
    /tmp/quotes/bin/python scripts/measure_quote_stripping.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "unit"))

from mail_in_samples import SAMPLES


def _words(text: str) -> str:
    return " ".join(text.split())


def libraries() -> dict[str, Callable[[str], str]]:
    """The candidates that import here, by name and version."""
    from importlib.metadata import version

    found: dict[str, Callable[[str], str]] = {}
    try:
        from mailparser_reply import EmailReplyParser as MailParserReply

        found[f"mail-parser-reply {version('mail-parser-reply')} (fr, body)"] = lambda body: str(
            MailParserReply(languages=["fr"]).read(text=body).replies[0].body
        )
    except ImportError:
        pass
    try:
        from email_reply_parser import EmailReplyParser

        found[f"email-reply-parser {version('email-reply-parser')}"] = EmailReplyParser.parse_reply
    except ImportError:
        pass
    try:
        import talon
        from talon import quotations
        from talon.signature.bruteforce import extract_signature

        talon.init()
        found[f"talon {version('talon')}"] = lambda body: extract_signature(
            quotations.extract_from_plain(body)
        )[0]
    except ImportError:
        pass
    from bot.mail_in.rules import strip_quotes

    found["bot.mail_in.rules.strip_quotes"] = strip_quotes
    return found


def main() -> None:
    for name, strip in libraries().items():
        missed = []
        for sample, body, words in SAMPLES:
            try:
                got = strip(body)
            except Exception as error:
                got = f"<{type(error).__name__}>"
            if _words(got) != _words(words):
                missed.append(sample)
        print(f"{name}: {len(SAMPLES) - len(missed)}/{len(SAMPLES)}  missed: {missed}")


if __name__ == "__main__":
    main()
