"""The French chat catalogue: every text the bot writes in a chat (Telegram HTML parse mode).

Values that come from users or from the school's configuration are escaped here, with
:func:`html.escape`, never by the callers. Texts are short: most users read them on a phone.
Other languages: :mod:`bot.texts.languages`; staff and command line: :mod:`bot.texts.staff`;
e-mails: :mod:`bot.texts.mail`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from enum import Enum
from html import escape
from typing import Protocol

from bot.config.school import Contact, SchoolConfig
from bot.texts.formatting import TELEGRAM_TEXT_LIMIT as TELEGRAM_TEXT_LIMIT
from bot.texts.formatting import duration as duration
from bot.texts.formatting import split_for_telegram as split_for_telegram

# Staff labels and notices that procedures and handlers read as ``texts.…`` (their home is
# bot.texts.staff).
from bot.texts.staff import STAFF_STEPS_ACTIVATION as STAFF_STEPS_ACTIVATION
from bot.texts.staff import STAFF_STEPS_MY_ACCOUNT as STAFF_STEPS_MY_ACCOUNT
from bot.texts.staff import STAFF_STEPS_RECOVERY as STAFF_STEPS_RECOVERY
from bot.texts.staff import staff_account_locked as staff_account_locked


class PasswordLimits(Protocol):
    """What the texts say of the password policy (``bot.config.password_policy``'s
    PasswordPolicy has these: the catalogue imports nothing from the procedures)."""

    @property
    def min_length(self) -> int: ...
    @property
    def max_length(self) -> int: ...
    @property
    def min_kinds(self) -> int: ...
    @property
    def long_length(self) -> int: ...


# --- Commands (menu of the chat, setMyCommands) ---------------------------------------------

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Commencer / revenir à l'accueil"),
    ("activer", "Activer mon compte ENT"),
    ("aide", "Contacts de l'établissement"),
    ("motdepasse", "Mot de passe oublié"),
    ("moncompte", "Mon compte ENT lié à Telegram"),
    ("annuler", "Abandonner la démarche en cours"),
)

# --- Buttons ---------------------------------------------------------------------------------

BUTTON_PROFILES: dict[str, str] = {
    "apprenti": "🎓 Apprenti·e",
    "maitre": "🧑‍🏭 Maître d'apprentissage",
    "eleve_parent": "🎒 Élève ou parent",
    "personnel_en": "🏫 Personnel de l'Éducation nationale",
    "personnel_agri": "🌾 Personnel de l'enseignement agricole",
    "autre": "👤 Autre public",
}
BUTTON_CGU_ACCEPT = "✅ J'accepte les CGU"
BUTTON_CGU_REFUSE = "❌ Je refuse"
BUTTON_CGU_READ_AGAIN = "📄 Relire les CGU"
BUTTON_RECOVERY_EMAIL = "📧 Par e-mail (conseillé)"
BUTTON_RECOVERY_QUESTIONS = "🔐 Par 2 questions secrètes"
BUTTON_EMAIL_CONFIRM = "✅ Oui, envoyer le code"
BUTTON_EMAIL_CHANGE = "✏️ Changer d'adresse e-mail"
BUTTON_EMAIL_RESEND = "🔁 Renvoyer l'e-mail"
BUTTON_SWITCH_TO_QUESTIONS = "🔐 Plutôt les questions secrètes"
BUTTON_OPEN_ENT = "🌐 Ouvrir l'ENT"
BUTTON_RESUME = "▶️ Reprendre"
BUTTON_RESTART = "🔄 Tout recommencer"
BUTTON_CANCEL = "✖️ Annuler"

# --- Welcome and profiles --------------------------------------------------------------------


def establishment_intro(school: SchoolConfig) -> str:
    """Above the first question of ``/start activer_<UAI>`` (a region's letter): the school."""
    return (
        f"Bonjour 👋 Vous activez votre compte {escape(school.ent_nom)} de "
        f"<b>{escape(school.etablissement)}</b>.\n\n"
    )


def welcome(school: SchoolConfig) -> str:
    """First message: what the bot does and the question of the profile."""
    return (
        f"Bonjour 👋\n\nJe vous aide à <b>activer votre compte {escape(school.ent_nom)}</b> "
        f"({escape(school.etablissement)}). Cela ne se fait qu'une fois et prend 5 minutes "
        "(et à nouveau si l'établissement a <b>réinitialisé</b> votre compte).\n\n"
        "Gardez sous la main le <b>courrier</b> de l'établissement : il contient votre "
        "identifiant et votre mot de passe provisoire.\n\n"
        "<b>Qui êtes-vous ?</b>"
    )


def external_profile(school: SchoolConfig, instructions: str) -> str:
    """Profiles whose account is not activated here."""
    return (
        "Votre compte n'a pas besoin d'être activé ici. 🙂\n\n"
        f"{escape(instructions)}\n\n"
        f"Pour vous connecter, ouvrez {escape(school.ent_nom)} avec le bouton ci-dessous et "
        "choisissez votre profil sur la page de connexion."
    )


EXTERNAL_PROFILE_DEFAULT = (
    "Connectez-vous avec les identifiants que vous donne votre administration."
)

# --- Step 1: provisional credentials ---------------------------------------------------------

ASK_IDENTIFIANT = (
    "<b>Étape 1 sur 5 — Votre courrier</b>\n\n"
    "Tapez votre <b>identifiant</b>, exactement comme il est écrit sur le courrier "
    "(par exemple : <code>prenom.nom</code>)."
)
IDENTIFIANT_INVALID = (
    "Cet identifiant ne ressemble pas à celui du courrier : il tient sur une ligne, sans "
    "espace, en moins de 100 caractères.\n\nTapez votre <b>identifiant</b>."
)
ASK_PROVISIONAL = (
    "Merci. Tapez maintenant le <b>mot de passe provisoire</b> écrit sur le courrier.\n\n"
    "🔒 Pour votre sécurité, j'efface votre message dès que je l'ai lu."
)


def letter_recognised(identifiant: str) -> str:
    """The letter's QR code was scanned: its account is known, only its password is asked."""
    return (
        f"<b>Étape 1 sur 5 — Votre courrier</b>\n\n📄 Courrier reconnu : identifiant "
        f"<code>{escape(identifiant)}</code>.\n\n"
        "Tapez le <b>mot de passe provisoire</b> écrit sur le courrier. 🔒 J'efface votre "
        "message dès que je l'ai lu."
    )


LETTER_LINK_UNKNOWN = (
    "Ce QR code ne correspond plus à un courrier en cours (un courrier plus récent a peut-être "
    "été imprimé, ou le compte est déjà activé).\n\n"
)
CHECKING = "⏳ Vérification en cours…"
CREDENTIALS_REFUSED = (
    "❌ Je n'ai pas pu activer un compte avec ces informations.\n\n"
    "• Vérifiez l'identifiant et le mot de passe provisoire sur votre courrier "
    "(majuscules, chiffre 0 et lettre O, chiffre 1 et lettre l).\n"
    "• Après plusieurs essais, attendez quelques minutes avant de recommencer.\n"
    "• Toujours bloqué ? Tapez /aide pour contacter l'établissement.\n\n"
    "Retapez le <b>mot de passe provisoire</b>, ou touchez « Changer d'identifiant »."
)


def credentials_refused(educonnect_url: str = "") -> str:
    """The provisional credentials refused (the same words whatever the reason); with
    EduConnect profiles in the directory, where pupils and parents of the Éducation nationale
    log in instead."""
    if not educonnect_url:
        return CREDENTIALS_REFUSED
    return CREDENTIALS_REFUSED.replace(
        "\n\nRetapez",
        "\n• Élève ou parent d'un collège ou lycée public ? Votre compte n'a pas besoin "
        "d'être activé : connectez-vous avec EduConnect, "
        f"{escape(educonnect_url)}\n\nRetapez",
    )


BUTTON_CHANGE_IDENTIFIANT = "✏️ Changer d'identifiant"


def chat_must_wait(delay: timedelta) -> str:
    """Too many tries in a row from this chat (whatever the identifiers): the wait, told the
    same way for every identifier, so it says nothing about the account."""
    return (
        "⏳ Plusieurs essais d'affilée ici : par sécurité, je ne vérifie plus rien pendant "
        f"<b>{duration(delay)}</b>.\n\n"
        "Gardez votre courrier sous la main : passé ce délai, retapez le "
        "<b>mot de passe provisoire</b> (majuscules, chiffre 0 et lettre O, chiffre 1 et "
        "lettre l comptent).\n\n"
        "Besoin d'aide ? Tapez /aide pour contacter l'établissement."
    )


TOO_MANY_IDENTIFIANTS = (
    "⛔ Vous avez essayé trop d'identifiants différents aujourd'hui. Réessayez demain, ou "
    "tapez /aide pour contacter l'établissement."
)

# --- Step 2: CGU -----------------------------------------------------------------------------

CGU_INTRO = (
    "<b>Étape 2 sur 5 — Conditions Générales d'Utilisation</b>\n\n"
    "Lisez ces règles d'utilisation de l'ENT. Vous devez les accepter pour activer votre compte."
)
CGU_QUESTION = "Acceptez-vous les Conditions Générales d'Utilisation ci-dessus ?"
# The question asked again away from the text (after /aide, a stale button…): it must read right
# wherever it lands.
CGU_QUESTION_AGAIN = (
    "Acceptez-vous les Conditions Générales d'Utilisation (CGU) de l'ENT ? "
    "Pour les relire, touchez « Relire les CGU »."
)
CGU_REFUSED = (
    "Sans votre accord sur les CGU, votre compte ne peut pas être activé.\n\n"
    "Vous pouvez les relire et changer d'avis quand vous voulez, ou tapez /annuler pour arrêter. "
    "Une question sur ces règles ? /aide"
)


def cgu_chunks(school: SchoolConfig, limit: int = TELEGRAM_TEXT_LIMIT - 200) -> list[str]:
    """The CGU text, escaped and cut at paragraph (or line, or word) boundaries."""
    return split_for_telegram(escape(school.cgu_text), limit)


# --- Step 3: recovery ------------------------------------------------------------------------

CHOOSE_RECOVERY = (
    "✅ CGU acceptées, merci.\n\n"
    "<b>Étape 3 sur 5 — En cas d'oubli</b>\n\n"
    "Si un jour vous oubliez votre mot de passe, comment voulez-vous le retrouver ?\n"
    "• <b>par e-mail</b> : votre adresse personnelle (conseillé) ;\n"
    "• <b>par 2 questions secrètes</b> dont vous seul·e connaissez les réponses."
)
ASK_EMAIL = (
    "Tapez votre <b>adresse e-mail personnelle</b> (par exemple : <code>prenom.nom@mail.fr</code>)."
    "\n\nElle servira à retrouver votre mot de passe en cas d'oubli."
)
EMAIL_INVALID = (
    "Cette adresse e-mail ne semble pas valide. Vérifiez-la (une seule adresse, avec un @ et "
    "sans espace) et tapez-la à nouveau."
)

EMAIL_DOMAIN_REFUSED = (
    "Cette adresse est une adresse de l'ENT : vous ne pourriez la lire qu'une fois connecté·e, "
    "elle ne vous aiderait donc pas à retrouver un mot de passe oublié.\n\n"
    "Tapez plutôt une adresse e-mail <b>personnelle</b> (par exemple : "
    "<code>prenom.nom@mail.fr</code>)."
)


def confirm_email(address: str) -> str:
    """Show the address back before sending the code."""
    return f"Est-ce bien votre adresse ?\n\n📧 <b>{escape(address)}</b>"


def email_typo(typed: str, suggestion: str) -> str:
    """An address whose domain looks like a typo: the likely one is suggested."""
    return f"Vouliez-vous dire <b>{escape(suggestion)}</b> ?\n\nVous avez tapé : {escape(typed)}"


BUTTON_EMAIL_FIX = "✅ Oui, corriger"


BUTTON_EMAIL_KEEP = "Non, envoyer à l'adresse tapée"


EMAIL_SENDING = "⏳ Envoi de l'e-mail en cours…"


def email_sent(address: str, code_length: int, hours: int) -> str:
    """After the verification e-mail left."""
    return (
        f"📨 C'est envoyé à <b>{escape(address)}</b>.\n\n"
        f"Dans cet e-mail, vous trouverez un <b>code à {code_length} chiffres</b> : tapez-le ici. "
        "Vous pouvez aussi toucher le lien de l'e-mail.\n\n"
        "Rien reçu ? Regardez dans les <b>courriers indésirables (spam)</b> et marquez le "
        "message comme « non indésirable ».\n\n"
        f"⏱ Le code est valable {hours} heures. Passé ce délai, il faudra recommencer "
        "l'activation depuis le mot de passe provisoire."
    )


def email_queued(address: str, code_length: int, hours: int) -> str:
    """The verification e-mail is written but its first attempt failed or is slow: the outbox
    sends it as soon as it can (the code is valid already)."""
    return (
        f"📨 L'e-mail partira dans quelques instants vers <b>{escape(address)}</b> : le serveur "
        "d'envoi est lent en ce moment, il est réessayé tout seul. Inutile de le redemander.\n\n"
        f"Dans cet e-mail, vous trouverez un <b>code à {code_length} chiffres</b> : tapez-le ici. "
        "Vous pouvez aussi toucher le lien de l'e-mail.\n\n"
        f"⏱ Le code est valable {hours} heures."
    )


CODE_FORMAT = "Le code se compose de {length} chiffres, sans lettres. Tapez-le tel qu'il est écrit dans l'e-mail."
CODE_WRONG = (
    "❌ Ce code n'est pas le bon. Vérifiez l'e-mail le plus récent et tapez le code à nouveau."
)


def wait_before_retry(delay: timedelta) -> str:
    """Too many wrong codes for now."""
    return f"⛔ Trop d'essais. Attendez {duration(delay)} avant de réessayer. Besoin d'aide ? /aide"


CODE_LOCKED = (
    "⛔ Trop d'essais : l'activation de ce compte est bloquée. Tapez /aide pour contacter "
    "l'établissement, qui pourra la débloquer."
)
VERIFICATION_EXPIRED = (
    "⌛ Le délai pour confirmer votre adresse e-mail est dépassé. Pas de souci : reprenons "
    "depuis le mot de passe provisoire.\n\n"
)


def resend_too_soon(delay: timedelta) -> str:
    """A new e-mail was asked for too soon after the last one."""
    return f"Un e-mail vient de partir. Vous pourrez en demander un autre dans {duration(delay)}."


RESEND_LIMIT = (
    "Vous avez demandé beaucoup d'e-mails. Vérifiez l'adresse et les indésirables, ou "
    "choisissez les questions secrètes. Besoin d'aide ? /aide"
)
EMAIL_VERIFIED = "✅ Adresse e-mail confirmée, merci !\n\n"
LINK_INVALID = (
    "Ce lien n'est plus valable (il a déjà servi, ou un e-mail plus récent l'a remplacé). "
    "Utilisez le dernier e-mail reçu, ou tapez /start."
)
LINK_OTHER_ACCOUNT = (
    "Ce lien a été demandé depuis un autre compte Telegram. Ouvrez-le sur le téléphone (ou le "
    "compte Telegram) avec lequel vous avez commencé la démarche."
)

# --- Step 3 bis: secret questions ------------------------------------------------------------

CHOOSE_QUESTION_1 = (
    "<b>Questions secrètes (1 sur 2)</b>\n\nChoisissez une première question. Vous devrez "
    "vous souvenir de la réponse."
)
CHOOSE_QUESTION_2 = "<b>Questions secrètes (2 sur 2)</b>\n\nChoisissez une deuxième question, différente de la première."


def ask_answer(question: str) -> str:
    """Ask the answer to the chosen question."""
    return (
        f"❓ <b>{escape(question)}</b>\n\nTapez votre réponse. Les majuscules et les accents "
        "ne comptent pas. 🔒 J'efface votre message dès que je l'ai lu."
    )


def ask_answer_again(question: str) -> str:
    """Ask the same answer a second time (a typo would lock its owner out later)."""
    return (
        f"❓ <b>{escape(question)}</b>\n\nRetapez la <b>même réponse</b>, pour éviter une faute "
        "de frappe. 🔒 J'efface votre message."
    )


ANSWERS_DIFFER = "❌ Les deux réponses ne sont pas identiques. Reprenons cette question.\n\n"
ANSWER_TOO_SHORT = "Cette réponse est trop courte (3 caractères au moins). Tapez une autre réponse."
ANSWER_TOO_LONG = (
    "Cette réponse est trop longue (100 caractères au plus). Tapez une réponse plus courte."
)
QUESTIONS_DONE = "✅ Vos deux questions secrètes sont enregistrées.\n\n"

# --- Step 4: password ------------------------------------------------------------------------


# The example passwords the prompts show: refused as passwords (anyone can read them here).
PASSWORD_EXAMPLES = ("Mon chat dort 2 fois !",)


def password_rules(
    policy: PasswordLimits, title: str = "Étape 4 sur 5 — Votre mot de passe"
) -> str:
    """The password rule in one sentence and an example, before the user types anything (the
    details are behind « Voir la règle complète »)."""
    return (
        f"<b>{escape(title)}</b>\n\n"
        f"Au moins <b>{policy.min_length} caractères</b>, avec {policy.min_kinds} sortes parmi "
        "minuscules, MAJUSCULES, chiffres et symboles — ou une phrase de "
        f"{policy.long_length} caractères et plus.\n\n"
        f"💡 Par exemple : <code>{escape(PASSWORD_EXAMPLES[0])}</code>\n\n"
        "Tapez votre nouveau mot de passe. 🔒 Je l'efface dès que je l'ai lu."
    )


BUTTON_FULL_PASSWORD_RULE = "🔍 Voir la règle complète"


def password_rule_full(policy: PasswordLimits, *, after_provisional: bool = True) -> str:
    """Every point of the rule (``after_provisional``: at activation, it must differ from the
    letter's provisional password)."""
    last = (
        "• différent du mot de passe provisoire, et pas un mot de passe trop courant."
        if after_provisional
        else "• pas un mot de passe trop courant."
    )
    return (
        "🔍 <b>La règle complète</b>\n\n"
        "Un mot de passe que personne ne peut deviner, même un ami :\n"
        f"• au moins <b>{policy.min_length} caractères</b> ;\n"
        f"• au moins {policy.min_kinds} sortes de caractères parmi : minuscules, MAJUSCULES, "
        f"chiffres, symboles (! ? # …) — sauf s'il fait {policy.long_length} caractères ou "
        "plus ;\n"
        "• sans votre identifiant, ni votre nom ou prénom ;\n"
        f"{last}\n\n"
        "Tapez votre nouveau mot de passe."
    )


_RULE_TEXTS: dict[str, str] = {
    "empty": "il est vide",
    "too_short": "il est trop court ({min_length} caractères au moins)",
    "too_long": "il est trop long ({max_length} caractères au plus)",
    "not_enough_kinds": (
        "il lui faut {min_kinds} sortes de caractères parmi minuscules, MAJUSCULES, chiffres "
        "et symboles (ou {long_length} caractères au moins)"
    ),
    "contains_identifiant": "il contient votre identifiant",
    "contains_name": "il contient votre nom ou votre prénom",
    "contains_first_name": "il contient votre prénom",
    "contains_last_name": "il contient votre nom de famille",
    "same_as_provisional": "c'est le mot de passe provisoire du courrier",
    "common_password": "c'est un mot de passe trop courant, facile à deviner",
    "invalid_characters": "il contient des caractères invisibles ou de contrôle",
    "example": "c'est l'exemple que je donne : tout le monde peut le lire ici",
}
PASSWORD_IS_THE_EXAMPLE = (
    "🙂 Bonne idée de faire une phrase ! Mais c'est l'exemple que je donne : tout le monde "
    "peut le lire ici, il ne protégerait pas votre compte.\n\n"
    "Inventez la vôtre, avec un souvenir ou une habitude à vous (par exemple un lieu, un "
    "animal, un nombre qui comptent pour vous), et tapez-la."
)


def password_refused(rules: Iterable[Enum], policy: PasswordLimits) -> str:
    """Say exactly which rules the password broke (the example alone: a kind word)."""
    names = [rule.name.lower() for rule in rules]
    if names == ["example"]:
        return PASSWORD_IS_THE_EXAMPLE
    values = {
        "min_length": policy.min_length,
        "max_length": policy.max_length,
        "min_kinds": policy.min_kinds,
        "long_length": policy.long_length,
    }
    lines = ["• " + _RULE_TEXTS.get(name, name).format(**values) for name in names]
    return (
        "❌ Ce mot de passe ne convient pas :\n"
        + "\n".join(lines)
        + "\n\nTapez un autre mot de passe."
    )


ASK_PASSWORD_CONFIRMATION = (
    "👍 Ce mot de passe convient.\n\nPour être sûr qu'il n'y a pas de faute de frappe, "
    "<b>tapez-le une deuxième fois</b>."
)
PASSWORD_MISMATCH = (
    "❌ Les deux mots de passe ne sont pas identiques. Recommençons : tapez votre nouveau mot "
    "de passe."
)
SECRET_DELETED = (
    "🔒 Message effacé pour votre sécurité : j'efface de même chaque mot de passe, code ou "
    "réponse que vous tapez ici."
)

# --- Step 5: done ----------------------------------------------------------------------------


def activated(school: SchoolConfig, identifiant: str, masked_email: str | None) -> str:
    """The account is active."""
    recovery = (
        f"📧 Adresse de secours : <b>{escape(masked_email)}</b>\n"
        if masked_email
        else "🔐 En cas d'oubli : vos deux questions secrètes.\n"
    )
    return (
        "🎉 <b>Compte activé !</b>\n\n"
        f"Votre compte {escape(school.ent_nom)} est maintenant actif.\n\n"
        f"👤 Identifiant : <code>{escape(identifiant)}</code>\n"
        f"{recovery}\n"
        "Connectez-vous avec cet identifiant et votre nouveau mot de passe. "
        "Ne le donnez à personne."
    )


def already_active(school: SchoolConfig, identifiant: str) -> str:
    """Someone whose account is already active (and linked to this very Telegram account) tries
    to activate it again."""
    return (
        f"✅ Votre compte <code>{escape(identifiant)}</code> est <b>déjà activé</b> : "
        f"connectez-vous à {escape(school.ent_nom)} avec votre mot de passe.\n\n"
        "• Mot de passe oublié ? /motdepasse\n"
        "• Changer votre e-mail ou vos questions secrètes ? /moncompte"
    )


ALREADY_ACTIVATED_ELSEWHERE = (
    "Ce compte vient d'être activé depuis une autre conversation. Si ce n'est pas vous, tapez "
    "/aide tout de suite pour prévenir l'établissement."
)

# --- Help, cancel, errors --------------------------------------------------------------------


def help_text(school: SchoolConfig) -> str:
    """The establishment's contacts."""
    lines = [f"🆘 <b>Besoin d'aide ?</b> Contactez {escape(school.etablissement)} :\n"]
    lines.extend(_contact(contact) for contact in school.contacts)
    lines.append(
        "\nNe donnez jamais votre mot de passe, même à l'assistance.\n"
        "Tapez /annuler pour abandonner la démarche en cours, ou /start pour revenir à l'accueil."
    )
    return "\n".join(lines)


def _contact(contact: Contact) -> str:
    parts = [f"• <b>{escape(contact.nom)}</b>"]
    if contact.role:
        parts[0] += f" — {escape(contact.role)}"
    if contact.email:
        parts.append(f"  📧 {escape(contact.email)}")
    if contact.telephone:
        parts.append(f"  ☎️ {escape(contact.telephone)}")
    if contact.horaires:
        parts.append(f"  🕘 {escape(contact.horaires)}")
    return "\n".join(parts)


SECRET_LOOKS_LIKE_A_QUESTION = (
    "🤔 On dirait une question plutôt qu'une réponse : je ne l'ai <b>pas</b> enregistrée "
    "(et je l'ai effacée).\n\nC'était bien ce que vous vouliez taper ?"
)
SECRET_LOOKS_LIKE_THANKS = (
    "😊 Avec plaisir ! Ce message ressemble à un merci : je ne l'ai <b>pas</b> pris pour votre "
    "réponse (et je l'ai effacé).\n\nC'était bien ce que vous vouliez taper ?"
)
SECRET_LOOKS_LIKE_A_PLEA = (
    "📝 Merci pour votre message. Je ne l'ai <b>pas</b> pris pour votre réponse (et je l'ai "
    "effacé) : pour écrire à l'équipe, touchez « 🆘 Je bloque ».\n\n"
    "Sinon, c'était bien ce que vous vouliez taper ?"
)
# What a typed step answers to a thank-you, a question or a long plea instead of its input
# (keys: the values of bot.procedures.parts.secret_screen.Reading), before the step again.
KIND_THANKS = "😊 Avec plaisir ! On continue quand vous voulez 👇"
KIND_QUESTION = (
    "🤔 Je ne sais pas répondre aux questions écrites. Pour de l'aide, touchez « 🆘 Je bloque » "
    "sous ce message."
)
KIND_PLEA = (
    "📝 Merci pour votre message. Je suis un robot et je ne peux pas le lire : pour écrire à "
    "l'équipe, touchez « 🆘 Je bloque » sous ce message."
)
KIND_ANSWERS = {"thanks": KIND_THANKS, "question": KIND_QUESTION, "plea": KIND_PLEA}
SECRET_HELD_BACK = {
    "thanks": SECRET_LOOKS_LIKE_THANKS,
    "question": SECRET_LOOKS_LIKE_A_QUESTION,
    "plea": SECRET_LOOKS_LIKE_A_PLEA,
}
# A secret of the step before typed again (its answer may never have arrived).
SECRET_TYPED_AGAIN = (
    "🔒 J'ai effacé ce message : c'est ce que vous veniez de taper, et je l'avais bien reçu. "
    "On continue 👇"
)
SECRET_TYPED_AGAIN_IN_HELP = (
    "🔒 J'ai effacé ce message : c'est ce que vous veniez de taper comme secret. Je ne "
    "l'envoie pas à l'équipe. Décrivez plutôt votre problème avec vos mots 🙂"
)
# Typed where a button is expected, just after a secret: it may be that secret.
SECRET_MAYBE_AT_BUTTONS = (
    "🔒 J'ai effacé votre message par prudence : il pouvait contenir un mot de passe ou une "
    "réponse secrète."
)
# Typed outside any procedure, shaped like a password or a code.
SECRET_OUTSIDE_DELETED = (
    "🔒 J'ai effacé votre message par prudence : il ressemblait à un mot de passe ou à un code."
)
BUTTON_SECRET_IT_WAS = "✅ Oui, c'était bien ça"
SECRET_TYPE_AGAIN = "D'accord. Retapez-le : cette fois, je le prends tel quel."
HELP_RESUME = "Reprenons là où vous en étiez 👇"
CANCELLED = (
    "D'accord, j'ai arrêté la démarche. Votre compte n'a pas été modifié.\n\n"
    "Tapez /start quand vous voulez recommencer."
)
NOTHING_TO_CANCEL = "Il n'y a pas de démarche en cours. Tapez /start pour commencer."
RESUME_OR_RESTART = (
    "Vous avez une démarche en cours. Voulez-vous la reprendre où vous en étiez, ou tout "
    "recommencer ?"
)
STALE_BUTTON = "Ce bouton n'est plus valable."
MENU_STALE = (
    "Ce bouton n'est plus valable. Tapez /moncompte pour voir vos comptes, ou /start pour "
    "commencer."
)
STALE_BUTTON_RESUME = "Ce bouton n'est plus valable. Voici l'étape où vous en êtes 👇"
USE_BUTTONS = "Pour cette étape, touchez un des boutons sous le message. 👇"
NOT_TEXT = "Je ne lis que du texte ici. 🙂"
TEXT_TOO_LONG = "Ce message est trop long pour cette étape."
UNKNOWN_COMMAND = "Je ne connais pas cette commande. Tapez /aide pour de l'aide."
OUTSIDE_FLOW = (
    "Je suis là pour vous aider à activer votre compte ENT.\n\n"
    "Tapez /start pour commencer, ou /aide pour contacter l'établissement."
)
PRIVATE_ONLY = "Pour votre sécurité, écrivez-moi en message privé."
TECHNICAL_ERROR = (
    "😕 Un problème technique m'empêche de continuer pour le moment. Rien n'est perdu : "
    "réessayez dans quelques minutes. Si cela dure, tapez /aide."
)


def choice_made(question_html: str, label: str) -> str:
    """A question whose button was pressed: the keyboard goes, the choice is written under it."""
    return f"{question_html}\n\n<i>→ {escape(label)}</i>"


# --- Forgotten password ----------------------------------------------------------------------

BUTTON_FORGOTTEN_PASSWORD = "🔑 Mot de passe oublié"
BUTTON_RECOVER_BY_EMAIL = "📧 J'avais donné une adresse e-mail"
BUTTON_RECOVER_BY_QUESTIONS = "🔐 J'avais choisi des questions secrètes"

RECOVERY_ASK_IDENTIFIANT = (
    "<b>Mot de passe oublié</b>\n\n"
    "Pas de panique, on va en choisir un nouveau. Tapez votre <b>identifiant</b> ENT "
    "(par exemple : <code>prenom.nom</code>)."
)
RECOVERY_CHOOSE_METHOD = (
    "Comment voulez-vous prouver que c'est bien vous ? Choisissez le moyen que vous avez "
    "donné à l'activation (ou depuis, dans /moncompte)."
)


def recovery_code_sent(code_length: int, hours: int) -> str:
    """Same answer whether an e-mail left or not: plain, and telling nothing of the account."""
    return (
        "📨 <b>C'est parti.</b> Si ce compte a une adresse e-mail de secours vérifiée, un "
        f"e-mail y arrive avec un <b>code à {code_length} chiffres</b>. Tapez le code ici, ou "
        "touchez le lien de l'e-mail.\n\n"
        "Rien après quelques minutes ? Regardez dans les indésirables (spam), vérifiez "
        "l'identifiant, ou essayez vos questions secrètes.\n\n"
        f"⏱ Le code est valable {hours} heures."
    )


RECOVERY_ANSWERS_WRONG = (
    "❌ Je n'ai pas pu vérifier ces réponses.\n\n"
    "• Vérifiez l'identifiant et vos réponses (les majuscules et les accents ne comptent pas).\n"
    "• Après plusieurs essais, attendez quelques minutes.\n"
    "• Toujours bloqué ? Tapez /aide pour contacter l'établissement."
)


def recovery_answers_wait(delay: timedelta) -> str:
    """Too many tries in a row from this chat at secret answers (whatever the identifiers):
    the wait, told the same way for every identifier."""
    return (
        "⏳ Plusieurs essais d'affilée ici : par sécurité, je ne vérifie plus de réponses "
        f"pendant <b>{duration(delay)}</b>. Passé ce délai, vous pourrez les taper de nouveau."
    )


RECOVERY_CODE_EXPIRED = "⌛ Ce code a expiré. Demandez-en un nouveau :"
RECOVERY_VERIFIED = "✅ C'est bien vous, merci !\n\n"
RECOVERY_DONE = (
    "🎉 <b>Mot de passe changé !</b>\n\n"
    "Connectez-vous à l'ENT avec votre identifiant et ce nouveau mot de passe. "
    "Ne le donnez à personne."
)
RECOVERY_FAILED = (
    "😕 Le mot de passe n'a pas pu être changé. Recommencez avec /motdepasse, ou tapez /aide."
)


def recovery_password_rules(policy: PasswordLimits) -> str:
    """The rule, before the new password of a recovery."""
    return password_rules(policy, "Nouveau mot de passe")


# --- Changed CGU ------------------------------------------------------------------------------

CGU_CHANGED_INTRO = (
    "📄 <b>Les Conditions Générales d'Utilisation ont changé.</b>\n\n"
    "Avant de continuer, lisez la nouvelle version et dites-nous si vous l'acceptez."
)
CGU_CHANGED_ACCEPTED = "✅ Merci, les nouvelles CGU sont acceptées. Vous pouvez continuer."
CGU_CHANGED_REFUSED = (
    "Sans votre accord sur les nouvelles CGU, je ne peux pas continuer. Votre compte n'est "
    "pas modifié. Vous pouvez les relire et les accepter quand vous voulez ; une question ? /aide"
)
CGU_CHANGED_AGAIN = "Le texte des CGU a encore changé entre-temps. Voici la dernière version :"

# --- My account -------------------------------------------------------------------------------

BUTTON_UNLINK = "🔓 Délier ce compte Telegram"
BUTTON_DELETE_DATA = "🗑 Supprimer mes données"
BUTTON_CONFIRM_DELETE = "Oui, supprimer"
BUTTON_KEEP = "Non, garder"
MY_ACCOUNT_FINISH_FIRST = (
    "Aucun compte n'est encore lié ici : terminez d'abord la démarche en cours (ou /annuler).\n\n"
)
NO_LINKED_ACCOUNT = (
    "Aucun compte ENT n'est lié à ce compte Telegram.\n\n"
    "Un compte est lié quand vous l'activez ici : tapez /activer. Mot de passe oublié ? "
    "/motdepasse"
)


def _account_block(account: tuple[str, str, str, str | None, bool, str]) -> str:
    identifiant, profil, etablissement, email, questions, activated = account
    return (
        f"👤 <code>{escape(identifiant)}</code>\n"
        f"• Profil : {escape(profil)}\n"
        f"• Établissement : {escape(etablissement)}\n"
        f"• E-mail de secours : {escape(email) if email else 'aucun'}\n"
        f"• Questions secrètes : {'enregistrées' if questions else 'aucune'}\n"
        f"• Activé le {escape(activated)}"
    )


def my_accounts(accounts: list[tuple[str, str, str, str | None, bool, str]]) -> str:
    """« Mon compte »: (identifiant, profil, établissement, masked e-mail, questions set,
    activation date) of each linked account; with several, the user picks one below."""
    blocks = "\n\n".join(_account_block(account) for account in accounts)
    pick = "\n\nTouchez le compte que vous voulez gérer 👇" if len(accounts) > 1 else ""
    return f"<b>Mon compte</b>\n\n{blocks}{pick}"


def account_button(identifiant: str) -> str:
    """The button that picks one of several linked accounts."""
    return f"👤 {identifiant}"


BUTTON_CHANGE_EMAIL = "📧 Changer d'adresse e-mail"
BUTTON_ADD_EMAIL = "📧 Ajouter une adresse e-mail"
BUTTON_CHANGE_QUESTIONS = "🔐 Changer mes questions secrètes"
BUTTON_SET_QUESTIONS = "🔐 Choisir des questions secrètes"
BUTTON_MY_EMAIL_SEND = "✅ Oui, envoyer le code"
BUTTON_MY_EMAIL_OTHER = "✏️ Taper une autre adresse"
ACCOUNT_NOT_LINKED = (
    "Ce compte n'est pas (ou plus) lié à ce compte Telegram : je ne peux rien y changer. "
    "Tapez /moncompte pour voir vos comptes."
)


def my_ask_password(identifiant: str, questions: bool) -> str:
    """Before any change: the account's current password."""
    what = "Changer mes questions secrètes" if questions else "Changer d'adresse e-mail"
    return (
        f"<b>{what}</b> — <code>{escape(identifiant)}</code>\n\n"
        "Pour vérifier que c'est bien vous, tapez votre <b>mot de passe ENT actuel</b>. "
        "🔒 J'efface votre message dès que je l'ai lu.\n\n"
        "Oublié ? Tapez /annuler puis /motdepasse."
    )


MY_PASSWORD_WRONG = (
    "❌ Ce n'est pas le bon mot de passe. Tapez-le à nouveau (attention aux majuscules), "
    "ou /annuler."
)
MY_ACCOUNT_LOCKED = (
    "⛔ Trop d'essais : ce compte est bloqué. Tapez /aide pour contacter l'établissement, qui "
    "pourra le débloquer."
)
MY_VERIFIED = "✅ C'est bien vous, merci.\n\n"
MY_ASK_EMAIL = (
    "Tapez votre <b>nouvelle adresse e-mail</b>. L'ancienne reste en place tant que la "
    "nouvelle n'est pas confirmée."
)
MY_EMAIL_SAME = "C'est déjà votre adresse de secours. Tapez une autre adresse, ou /annuler."


def my_email_sent(address: str, code_length: int, hours: int) -> str:
    """After the e-mail to the new address left."""
    return (
        f"📨 C'est envoyé à <b>{escape(address)}</b>.\n\n"
        f"Tapez ici le <b>code à {code_length} chiffres</b> de cet e-mail, ou touchez son lien. "
        "D'ici là, votre ancienne adresse reste en place.\n\n"
        "Rien reçu ? Regardez dans les <b>courriers indésirables (spam)</b>.\n\n"
        f"⏱ Le code est valable {hours} heures."
    )


def my_email_queued(address: str, code_length: int, hours: int) -> str:
    """The e-mail to the new address is written but not gone yet: the outbox retries it."""
    return (
        f"📨 L'e-mail partira dans quelques instants vers <b>{escape(address)}</b> : le serveur "
        "d'envoi est lent en ce moment, il est réessayé tout seul. Inutile de le redemander.\n\n"
        f"Tapez ici le <b>code à {code_length} chiffres</b> de cet e-mail, ou touchez son lien. "
        "D'ici là, votre ancienne adresse reste en place.\n\n"
        f"⏱ Le code est valable {hours} heures."
    )


MY_RESEND_LIMIT = (
    "Vous avez demandé beaucoup d'e-mails. Vérifiez l'adresse et les indésirables. "
    "Besoin d'aide ? /aide"
)
MY_EMAIL_EXPIRED = (
    "⌛ Le délai pour confirmer la nouvelle adresse est dépassé. Votre adresse n'a pas changé.\n\n"
)


def my_email_changed(masked: str) -> str:
    """The new address replaced the old one."""
    return (
        "✅ <b>Adresse e-mail changée.</b>\n\n"
        f"En cas d'oubli du mot de passe, le code arrivera à <b>{escape(masked)}</b>. "
        "Un e-mail prévient votre ancienne adresse."
    )


MY_QUESTIONS_CHANGED = (
    "✅ <b>Questions secrètes changées.</b> Les anciennes réponses ne servent plus."
)


PROFIL_LABELS = {
    "apprenti": "apprenti·e",
    "maitre_apprentissage": "maître d'apprentissage",
    "eleve": "élève",
    "parent": "parent",
    "personnel": "personnel",
    "autre": "autre",
}
UNLINKED = (
    "🔓 C'est fait : ce compte Telegram n'est plus lié à votre compte ENT. Votre compte ENT "
    "et votre mot de passe ne changent pas."
)
CONFIRM_DELETE = (
    "Supprimer vos données ? J'efface le lien entre ce compte Telegram et votre compte ENT "
    "et la démarche en cours. Votre compte ENT lui-même n'est pas supprimé."
)
DATA_DELETED = (
    "🗑 C'est fait : ce compte Telegram n'est plus lié à aucun compte ENT et la démarche en "
    "cours est effacée. Seule la trace de sécurité des identifiants essayés reste (24 heures "
    "après le dernier essai de chacun, y compris celui du compte qui était lié), puis elle est "
    "effacée.\n\n"
    "Restent chez l'établissement : votre compte ENT (identifiant, nom, profil, mot de passe "
    "chiffré, adresse de secours) et l'historique de son activation (dates, acceptation des "
    "CGU), qu'il doit conserver. Pour les consulter ou les faire supprimer, contactez "
    "l'établissement (/aide)."
)
KEPT = "D'accord, je ne change rien."


# --- Sandbox ----------------------------------------------------------------------------------
# The local sandbox (``python run_bot.py`` without a token): console banner and the page's API.


def sandbox_banner(url: str, account_lines: list[str]) -> str:
    """Printed when the sandbox starts: what it is, where to open it, the demo accounts."""
    return (
        "\nBac à sable de l'assistant d'activation ENT : aucun jeton Telegram n'est configuré,\n"
        "le bot tourne sur ce poste, avec un faux Telegram et une fausse boîte mail.\n"
        f"Ouvrez dans votre navigateur : {url}/\n"
        f"La discussion sur le site de l'ENT (page imitée) : {url}/ent/\n\n"
        "Comptes de démonstration (identifiant / mot de passe provisoire / profil) :\n"
        + "\n".join(account_lines)
        + "\n\nCtrl+C pour arrêter."
    )


SANDBOX_STOPPED = "Bac à sable arrêté."


def sandbox_cannot_listen(host: str, port: int, reason: str) -> str:
    """The sandbox's address is taken or wrong."""
    return (
        f"Le bac à sable ne peut pas écouter sur {host}:{port} ({reason}).\n"
        "Le port est peut-être déjà utilisé : choisissez-en un autre, par exemple\n"
        f"SANDBOX_PORT={port + 1 if port else 8181} python run_bot.py"
    )


SANDBOX_RESET_DONE = "Bac à sable réinitialisé : discussions et e-mails effacés, comptes recréés."
SANDBOX_ERRORS = {
    "bad_json": "La requête doit être un objet JSON (Content-Type: application/json).",
    "unknown_user": "Utilisateur inconnu dans le bac à sable.",
    "empty_text": "Le message est vide.",
    "text_too_long": "Le message est trop long (4096 caractères au plus).",
    "unknown_message": "Ce message n'existe pas ou n'est plus affiché.",
    "unknown_button": "Ce bouton n'existe pas sur ce message.",
    "bad_name": "Le prénom doit faire de 1 à 64 caractères.",
    "too_many_users": "Trop d'utilisateurs dans le bac à sable : réinitialisez-le.",
    "resetting": "Réinitialisation en cours, réessayez dans un instant.",
    "unknown_topic": "Ce sujet n'existe pas dans le groupe de l'équipe.",
    "unknown_mail": "Cet e-mail n'est plus dans la boîte (le bac à sable a été réinitialisé ?).",
}
SANDBOX_MAIL_NO_HTML = "<p>(pas de version HTML)</p>"


# The sandbox on an address other machines can reach (``SANDBOX_HOST``, ``SANDBOX_ALLOW_REMOTE``).
_SANDBOX_NOT_FOR_PRODUCTION = (
    "Le bac à sable n'est pas fait pour la production : sa page n'a aucune authentification, "
    "et quiconque la joint lit toutes les discussions et tous les e-mails, et parle au nom de "
    "n'importe quel utilisateur."
)


def sandbox_remote_refused(host: str) -> str:
    """``SANDBOX_HOST`` is not a loopback address and nothing confirmed it."""
    return (
        f"Le bac à sable refuse d'écouter sur « {host} » : cette adresse peut être jointe depuis "
        f"d'autres machines.\n{_SANDBOX_NOT_FOR_PRODUCTION}\n"
        "Pour cette machine seulement : SANDBOX_HOST=127.0.0.1 (le défaut).\n"
        "Pour l'ouvrir quand même (réseau de confiance, démonstration) : SANDBOX_ALLOW_REMOTE=1."
    )


def sandbox_remote_warning(host: str) -> str:
    """``SANDBOX_ALLOW_REMOTE`` confirmed a non-loopback ``SANDBOX_HOST``."""
    return (
        f"Attention : le bac à sable écoute sur « {host} », joignable depuis d'autres machines "
        f"(SANDBOX_ALLOW_REMOTE=1).\n{_SANDBOX_NOT_FOR_PRODUCTION}"
    )


# --- start-up (logs and console of ``run_bot.py``) -----------------------------------------

STARTUP_STEPS = {
    "getMe": "la vérification du jeton auprès de Telegram (getMe)",
    "deleteWebhook": "le démarrage de la réception des messages (deleteWebhook)",
}


def startup_retry(step: str, error: str, delay: float, attempt: int) -> str:
    """Logged while a start-up call to Telegram fails: never the token, only the error's type."""
    seconds = f"{delay:g}".replace(".", ",")
    return (
        f"Démarrage : {STARTUP_STEPS.get(step, step)} a échoué ({error}, essai {attempt}) ; "
        f"nouvel essai dans {seconds} s."
    )
