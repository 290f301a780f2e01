"""Texts of the fallback support (« 🆘 Je bloque »): the user's side and the staff group's."""

from __future__ import annotations

from datetime import date, datetime
from html import escape as _escape

BUTTON_STUCK = "🆘 Je bloque"
BUTTON_WRITE_TEAM = "✍️ Écrire à l'équipe"
BUTTON_NOT_HELPED = "Ça ne m'a pas aidé → Écrire à l'équipe"
BUTTON_RESUME = "↩️ Reprendre ma démarche"
BUTTON_DONE = "✅ C'est bon, merci"
BUTTON_ACTIONS = {
    "renvoyer": "📧 Renvoyer l'e-mail",
    "recommencer": "🔄 Recommencer",
    "contacts": "📞 Voir les contacts",
}

MENU = "🆘 <b>Quel est le problème ?</b>\nTouchez votre cas, ou écrivez-le en quelques mots."
ASK_MESSAGE = (
    "✍️ Écrivez votre message à l'équipe, en quelques phrases.\n\n"
    "⚠️ N'écrivez <b>jamais</b> votre mot de passe."
)
SENT = "📨 Message transmis à l'équipe (demande n° {number}).\nLa réponse arrivera ici."
WRITE_MORE = (
    "Vous pouvez écrire encore : vos messages vont à l'équipe jusqu'à ce que vous touchiez "
    "« Reprendre »."
)
ASK_PASSWORD = (
    "🔒 <b>Ce message contient-il un mot de passe ?</b>\nJe ne l'ai pas encore transmis à l'équipe."
)
BUTTON_YES_PASSWORD = "Oui, effacez-le"
BUTTON_NO_PASSWORD = "Non, envoyez-le"
PASSWORD_ERASED = (
    "🔒 Je l'ai effacé et je ne l'ai pas transmis : l'équipe n'a jamais besoin de votre mot "
    "de passe. Réécrivez votre message sans lui."
)
HELD_GONE = "Je n'ai plus ce message. Envoyez-le de nouveau, s'il vous plaît."
SECRET_IN_HELP = (
    "🔒 Cela ressemble à un mot de passe : je l'ai effacé, et je ne le transmets à personne.\n"
    "Tapez-le à l'étape de votre démarche : touchez « Reprendre »."
)
WEAK_MATCH = (
    "Je ne suis pas sûr d'avoir compris. Est-ce l'un de ces cas ? Sinon, touchez "
    "« Écrire à l'équipe »."
)
HOW_TO_REPLY_OUTSIDE = "Vous pouvez écrire ici : vos messages vont à l'équipe."
FLOOD = (
    "⏳ Vous avez déjà envoyé plusieurs messages. Attendez une minute avant d'en écrire un "
    "autre : l'équipe lit tout."
)
PASSWORD_NOT_SENT = (
    "🔒 Votre message semble contenir un mot de passe : je l'ai effacé et je ne l'ai pas "
    "transmis. L'équipe n'en a jamais besoin. Réécrivez votre message sans lui."
)
NOT_TEXT = (
    "Je ne peux transmettre que du texte, une photo ou un document. Décrivez le problème par écrit."
)
EDIT_PASSWORD = (
    "🔒 Votre message modifié semble contenir un mot de passe : je l'ai effacé, et l'équipe "
    "ne le voit plus. Réécrivez-le sans lui."
)
RESENT_BY_TEAM = "📧 L'équipe vous a renvoyé l'e-mail de vérification. Regardez vos messages."
NO_MATCH_NO_TEAM = "Je n'ai pas trouvé de réponse toute prête."
RESENT = "📧 C'est fait : un nouvel e-mail est parti."
CANNOT_RESEND = "Je ne peux pas renvoyer d'e-mail à cette étape."
DONE = "👍 Tant mieux ! Tapez /start si vous voulez faire une démarche."
HOW_TO_REPLY = "Pour répondre : /aide puis « ✍️ Écrire à l'équipe »."


def escape(text: str) -> str:
    """HTML-escape for Telegram (quotes are fine as they are)."""
    return _escape(text, quote=False)


def _team(etablissement: str, signed_by: str | None) -> str:
    """« 💬 L'équipe de … », signed with a first name only if the school chose to."""
    head = f"L'équipe de {escape(etablissement)}"
    if signed_by:
        head += f" · {escape(signed_by)}"
    return f"💬 <b>{head}</b>"


def answer_from_team(etablissement: str, text: str, signed_by: str | None = None) -> str:
    """A staff answer as the user reads it (no staff name unless ``signed_by``)."""
    return f"{_team(etablissement, signed_by)} :\n\n{escape(text)}\n\n<i>{HOW_TO_REPLY}</i>"


def team_caption(etablissement: str, caption: str, signed_by: str | None = None) -> str:
    """The caption of a staff photo or document as the user reads it (no staff name unless
    ``signed_by``)."""
    head = _team(etablissement, signed_by)
    return f"{head} :\n\n{escape(caption)}" if caption.strip() else head


def closed_for_user(number: int) -> str:
    """The user's notice that their request is closed."""
    return (
        f"✅ Votre demande n° {number} est close.\n"
        "Besoin d'autre chose ? /aide puis « ✍️ Écrire à l'équipe » : cela la rouvre."
    )


# --- opening hours -------------------------------------------------------------------------

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
OUTSIDE_HOURS = "🕐 L'équipe n'est pas là en ce moment : elle vous répondra à partir de {when}."


def clock_time(moment: datetime) -> str:
    """« 8 h 00 », « 13 h 30 » (the French way)."""
    return f"{moment.hour} h {moment.minute:02d}"


def opening_day(opens: datetime, today: date) -> str:
    """When the team is back, as a person says it: « 13 h 30 » (today), « demain 8 h 00 »,
    « lundi 8 h 00 » (within the week), « lundi 4 janvier 8 h 00 » (later). Local times."""
    days = (opens.date() - today).days
    if days <= 0:
        return clock_time(opens)
    if days == 1:
        return f"demain {clock_time(opens)}"
    name = DAY_NAMES[opens.weekday()]
    if days < 7:
        return f"{name} {clock_time(opens)}"
    return f"{name} {opens.day} {MONTH_NAMES[opens.month - 1]} {clock_time(opens)}"


def outside_hours(opens: datetime, now: datetime) -> str:
    """The note to a user who writes while the team is away (both moments local)."""
    return OUTSIDE_HOURS.format(when=opening_day(opens, now.date()))


# --- staff group -------------------------------------------------------------------------

STAFF_CARD_TITLE = "🆘 Demande #{number} · {name}"
STAFF_MESSAGE_TITLE = "✉️ Demande #{number} · {name}"
STAFF_HOW_TO_ANSWER = (
    "Répondez à ce message pour écrire à la personne ; /fermer en réponse pour clore. "
    "Aussi, en réponse : /compte, /debloquer, /renvoyer."
)
STAFF_HOW_TO_ANSWER_TOPIC = (
    "Écrivez dans ce sujet pour répondre à la personne ; /fermer pour clore. "
    "Aussi : /compte, /debloquer, /renvoyer."
)
STAFF_NO_PROCEDURE = "aucune démarche en cours"
STAFF_NO_ACCOUNT = "compte pas encore reconnu"
STAFF_UNKNOWN_TICKET = "Cette demande n'existe pas ou est déjà close."
STAFF_CLOSED = "✅ Demande #{number} close ; la personne a été prévenue."
STAFF_REPLY_TO_TICKET = "Utilisez /fermer en réponse à un message d'une demande."
STAFF_ONLY = "Ces commandes sont réservées à l'équipe de support."
STAFF_COMMAND_WHERE = (
    "Utilisez cette commande dans le sujet d'une demande, ou en réponse à l'un de ses messages."
)
STAFF_TICKET_NO_ACCOUNT = "Compte de cette personne pas encore reconnu."
STAFF_RESENT = "📧 E-mail de vérification renvoyé ; la personne est prévenue."
STAFF_NOTHING_TO_RESEND = "Aucun e-mail de vérification en attente : rien à renvoyer."
STAFF_RESEND_REFUSED = "E-mail pas renvoyé : délai ou limite d'envois. Réessayez plus tard."
STAFF_TOPIC_UNCERTAIN = (
    "<i>⚠️ Le sujet de cette personne n'a peut-être pas été créé (redémarrage) : répondez à "
    "ce message ; /fermer en réponse pour clore.</i>"
)
STAFF_REMINDER = "⏰ Demande #{number} · sans réponse depuis {waited}"
STAFF_REMINDER_OPEN_HOURS = " d'ouverture"
STAFF_REMINDER_TOPIC_TITLE = "Demande #{number}"
STAFF_FIELDS = {
    "telegram": "Telegram",
    "profil": "Profil",
    "etablissement": "Établissement",
    "identifiant": "Identifiant",
    "etape": "Étape",
    "depuis": "Depuis",
    "erreurs": "Dernières erreurs",
    "secours": "Moyen de secours",
}
STAFF_FAILURES = "{count} échec(s) de mot de passe"
STAFF_LOCKED_UNTIL = "compte bloqué jusqu'au {until}"
STAFF_NONE = "aucune"
STAFF_RECOVERY = {"email": "e-mail {masked}", "questions": "questions secrètes", "": "aucun"}

# --- command line ------------------------------------------------------------------------

CLI_SUPPORT_HELP = "Demandes d'aide adressées à l'équipe"
CLI_LIST_HELP = "Lister les demandes"
CLI_OPEN_HELP = "Seulement les demandes ouvertes"
CLI_JSON_HELP = "Sortie JSON"
CLI_SHOW_HELP = "Afficher une demande"
CLI_NUMBER = "NUMERO"
CLI_NONE = "Aucune demande."
CLI_UNKNOWN = "Demande {number} inconnue."
CLI_STATES = {"open": "ouverte", "closed": "close"}
CLI_HEAD = "N°    État      Ouverte le           1re réponse          Messages (personne/équipe)"
CLI_FIELDS = (
    "Demande",
    "État",
    "Telegram",
    "Ouverte le",
    "1re réponse",
    "Délai de 1re réponse",
    "Close le",
    "Messages (personne/équipe)",
)


def staff_reminder(number: int, waited: str, *, opening_hours: bool, topics: bool) -> str:
    """The one reminder of a ticket left unanswered (HTML; the number on the first line, so
    that replying to it answers the ticket)."""
    title = STAFF_REMINDER.format(number=number, waited=waited)
    if opening_hours:
        title += STAFF_REMINDER_OPEN_HOURS
    how = STAFF_HOW_TO_ANSWER_TOPIC if topics else STAFF_HOW_TO_ANSWER
    return f"<b>{escape(title)}</b>\n\n<i>{how}</i>"
