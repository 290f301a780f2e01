"""The demo engine: a stand-in for the procedures until step 2 of issue 24 binds them.

An identifier, then a new password (a secret, checked for length only and forgotten at once),
then a choice, then done — with « 🆘 Je bloque » and « Reprendre » at every step. It touches no
account, no directory and no database beyond the conversation's own state. Only the sandbox and
the tests use it: production starts serve :class:`bot.web.engine.ClosedEngine`.
"""

from __future__ import annotations

from bot.texts import web as texts
from bot.web.engine import Autocomplete, InputKind, WebChoice, WebConversation, WebPrompt

HELP = WebChoice(texts.DEMO_HELP_BUTTON, "help")
RESUME = WebChoice(texts.DEMO_RESUME_BUTTON, "resume")
CONFIRM = WebChoice(texts.DEMO_CONFIRM_BUTTON, "confirm")
RESTART = WebChoice(texts.DEMO_RESTART_BUTTON, "restart")
MIN_PASSWORD = 8


class DemoEngine:
    """Identifier → secret → choice → done (see the module's docstring)."""

    def _step(self, conversation: WebConversation) -> WebPrompt:
        step = conversation.state.get("step", "identifier")
        if step == "identifier":
            return WebPrompt(
                texts.DEMO_ASK_IDENTIFIER,
                ((HELP,),),
                InputKind.TEXT,
                Autocomplete.USERNAME,
            )
        if step == "password":
            return WebPrompt(
                texts.DEMO_ASK_PASSWORD, ((HELP,),), InputKind.SECRET, Autocomplete.NEW_PASSWORD
            )
        if step == "confirm":
            return WebPrompt(
                texts.DEMO_ASK_CONFIRM, ((CONFIRM, RESTART), (HELP,)), InputKind.CHOICE
            )
        return WebPrompt(texts.DEMO_DONE, ((RESTART,),), InputKind.CHOICE)

    async def open(self, conversation: WebConversation) -> list[WebPrompt]:
        conversation.state = {"step": "identifier"}
        return [WebPrompt(texts.DEMO_WELCOME, input=InputKind.NONE), self._step(conversation)]

    async def text(self, conversation: WebConversation, text: str) -> list[WebPrompt]:
        if conversation.state.get("step", "identifier") != "identifier":
            return [WebPrompt(texts.DEMO_NOT_NOW, input=InputKind.NONE), self._step(conversation)]
        conversation.state["step"] = "password"
        return [self._step(conversation)]

    async def secret(self, conversation: WebConversation, value: str) -> list[WebPrompt]:
        if conversation.state.get("step") != "password":
            return [WebPrompt(texts.DEMO_NOT_NOW, input=InputKind.NONE), self._step(conversation)]
        if len(value) < MIN_PASSWORD:
            return [WebPrompt(texts.DEMO_TOO_SHORT, input=InputKind.NONE), self._step(conversation)]
        conversation.state["step"] = "confirm"
        return [self._step(conversation)]

    async def choose(self, conversation: WebConversation, action: str) -> list[WebPrompt]:
        step = conversation.state.get("step", "identifier")
        if action == "help":
            conversation.state["helped"] = step
            return [WebPrompt(texts.DEMO_HELP, ((RESUME,),), InputKind.CHOICE)]
        if action == "resume":
            return [self._step(conversation)]
        if action == "restart":
            return await self.open(conversation)
        if action == "confirm" and step == "confirm":
            conversation.state["step"] = "done"
            return [self._step(conversation)]
        return [WebPrompt(texts.STALE_CHOICE, input=InputKind.NONE), self._step(conversation)]
