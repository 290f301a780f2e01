"""A person chatting with the bot through the local Bot API server: what they type, what they
press, what they see."""

from __future__ import annotations

from typing import Any

from conftest import BotHarness, last_code


class Chat:
    """One user's private chat with the bot."""

    def __init__(self, harness: BotHarness, user_id: int, first_name: str = "Testeur") -> None:
        self.harness = harness
        self.user_id = user_id
        self.user = harness.server.user(user_id, first_name=first_name)
        self.secret_message_ids: list[int] = []
        self._mark = 0

    # --- acting -----------------------------------------------------------------------------

    def _start_turn(self) -> None:
        self._mark = sum(1 for m in self.user.messages if m.from_bot)

    async def send(self, text: str) -> int:
        """Type ``text`` without waiting for the answer; return the message id."""
        self._start_turn()
        return await self.user.send_text(text)

    async def say(self, text: str) -> Any:
        """Type ``text``; return the bot's last message of the turn."""
        await self.send(text)
        return await self.last()

    async def restart(self, command: str) -> Any:
        """Type ``command``; over a procedure in progress the bot asks « Reprendre / Tout
        recommencer »: start over. Returns the bot's last message."""
        reply = await self.say(command)
        if any("Tout recommencer" in label for label in self.labels(reply)):
            reply = await self.press("Tout recommencer")
        return reply

    async def say_secret(self, text: str) -> Any:
        """Type a secret; the bot must delete that message."""
        message_id = await self.send(text)
        self.secret_message_ids.append(message_id)
        return await self.last()

    async def sticker(self) -> None:
        self._start_turn()
        await self.user.send_sticker()

    async def photo(self) -> None:
        self._start_turn()
        await self.user.send_photo()

    async def press(self, label: str) -> Any:
        """Press the newest button whose label contains ``label``; return the bot's answer."""
        self._start_turn()
        await self.user.press(label)
        return await self.last()

    async def press_data(self, message_id: int, data: str) -> None:
        """Press a button with exactly this callback data (possibly forged or stale)."""
        self._start_turn()
        await self.user.press_data(message_id, data)

    # --- reading ----------------------------------------------------------------------------

    async def replies(self) -> list[Any]:
        """The bot's messages of this turn (since the user's last action), once it is idle."""
        await self.harness.settle()
        sent = [m for m in self.user.messages if m.from_bot]
        return [m for m in sent[self._mark :] if not m.deleted]

    async def last(self) -> Any:
        """The bot's newest message (edits applied), once the bot is idle."""
        fresh = await self.replies()
        if fresh:
            return fresh[-1]
        messages = [m for m in self.user.visible_messages() if m.from_bot]
        assert messages, "the bot said nothing"
        return messages[-1]

    @staticmethod
    def labels(message: Any) -> list[str]:
        """Labels of the message's inline buttons."""
        return [button["text"] for row in message.buttons for button in row]

    def labels_contain(self, message: Any) -> set[str]:
        """Fragments of labels, to check with ``<=``."""
        found = set()
        for label in self.labels(message):
            for fragment in ("Apprenti", "Maître d'apprentissage", "Élève ou parent"):
                if fragment in label:
                    found.add(fragment)
        return found

    @staticmethod
    def url_buttons(message: Any) -> list[str]:
        """URLs of the message's URL buttons."""
        return [b["url"] for row in message.buttons for b in row if "url" in b]

    @staticmethod
    def data_of(message: Any, label: str) -> str:
        """Callback data of the button whose label contains ``label``."""
        for row in message.buttons:
            for button in row:
                if label in button["text"]:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label!r}")

    def nonce_of(self, message: Any) -> str:
        """The nonce the bot put in the message's buttons."""
        return self.data_of(message, "").rsplit(":", 1)[1]

    def assert_secrets_deleted(self) -> None:
        """Every message in which the user typed a secret was deleted by the bot."""
        visible = {m.message_id for m in self.user.visible_messages()}
        for message_id in self.secret_message_ids:
            assert message_id not in visible, "a message holding a secret is still in the chat"
            assert message_id in self.user.deleted_message_ids

    # --- walks to a step ----------------------------------------------------------------------

    async def walk_to_provisional(self, identifiant: str) -> None:
        await self.say("/activer")
        await self.say(identifiant)

    async def walk_to_cgu(self, identifiant: str, password: str) -> None:
        await self.walk_to_provisional(identifiant)
        await self.say_secret(password)

    async def walk_to_recovery(self, identifiant: str, password: str) -> None:
        await self.walk_to_cgu(identifiant, password)
        await self.press("J'accepte")

    async def walk_to_email(self, identifiant: str, password: str) -> None:
        await self.walk_to_recovery(identifiant, password)
        await self.press("e-mail")

    async def walk_to_email_sent(self, identifiant: str, password: str, address: str) -> None:
        await self.walk_to_email(identifiant, password)
        count = len(self.harness.mailbox.mails)
        await self.say(address)  # sent at once (an address that looks like a typo is asked)
        await self.harness.mailbox.wait_for(count + 1)

    async def walk_to_questions(self, identifiant: str, password: str) -> None:
        await self.walk_to_recovery(identifiant, password)
        await self.press("questions secrètes")

    async def walk_to_password(
        self, identifiant: str, password: str, address: str = "x@example.org"
    ) -> None:
        await self.walk_to_email_sent(identifiant, password, address)
        await self.say_secret(last_code(self.harness.mailbox))
