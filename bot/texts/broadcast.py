"""French texts of the staff broadcasts: the reminders' button, the command line's help and
messages (``run_bot.py broadcast …``)."""

from __future__ import annotations

from datetime import datetime
from html import escape

# The placeholders staff may write in a campaign's message, as they type them (the names are
# French words, so they belong to the catalogue; bot.broadcast.message fills them in).
PLACEHOLDERS = ("prenom", "etablissement")

OPT_OUT_BUTTON = "🔕 Ne plus recevoir de rappels"
OPT_OUT_DONE = (
    "C'est noté : vous ne recevrez plus de rappels de l'établissement.\n"
    "Les messages de sécurité de votre compte, eux, continueront d'arriver."
)

# --- Automatic reminders ---------------------------------------------------------------------

AUTO_LINK_EXPIRING = (
    "⏳ Le lien de vérification envoyé à votre adresse e-mail expire bientôt "
    "(dans moins de 24 heures).\n"
    "Vous ne l'avez pas reçu ? Demandez un nouvel e-mail :"
)
AUTO_UNFINISHED = (
    "👋 Votre activation de compte ENT n'est pas terminée.\nReprenez là où vous vous étiez arrêté :"
)
BUTTON_RESEND = "🔁 Renvoyer l'e-mail"
BUTTON_RESUME = "▶️ Reprendre"
NOTHING_TO_RESUME = "Vous n'avez pas de démarche en cours. Tapez /activer pour commencer."

# --- Reminder e-mails and their unsubscribe page ------------------------------------------------

UNSUBSCRIBE_LINE = "Ne plus recevoir ces rappels par e-mail :"
UNSUBSCRIBE_PAGE_TITLE = "Rappels par e-mail"
UNSUBSCRIBE_PAGE_CONFIRM = (
    "Vous ne voulez plus recevoir les rappels de l'établissement par e-mail ?"
)
UNSUBSCRIBE_PAGE_BUTTON = "Ne plus recevoir de rappels"
UNSUBSCRIBE_PAGE_DONE = (
    "C'est noté : cette adresse ne recevra plus de rappels. Les messages de sécurité de votre "
    "compte, eux, continueront d'arriver."
)


def email_subject(etablissement: str) -> str:
    """Subject of a reminder e-mail when staff gave none, on one line (a line break in the
    establishment's name, as an earlier import let through, becomes a space)."""
    name = " ".join(etablissement.split())
    return f"Rappel : {name}" if name else "Rappel de votre établissement"


def email_text(message: str, unsubscribe: str) -> str:
    """Text part: the message, then the way out."""
    return f"{message}\n\n--\n{UNSUBSCRIBE_LINE}\n{unsubscribe}\n"


def email_html(message: str, unsubscribe: str) -> str:
    """HTML part (the message escaped, its lines kept)."""
    body = "<br>".join(escape(line) for line in message.splitlines())
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        # A link is one long word: it wraps rather than widen a phone's screen.
        '<body style="overflow-wrap: anywhere; word-break: break-word;">'
        f"<p>{body}</p><hr>"
        f'<p style="font-size:small">{escape(UNSUBSCRIBE_LINE)} '
        f'<a href="{escape(unsubscribe)}">{escape(UNSUBSCRIBE_PAGE_BUTTON)}</a></p>'
        "</body></html>"
    )


CLI_HELP = {
    "broadcast": "Rappels envoyés par le bot (campagnes)",
    "new": "Préparer une campagne, la montrer, puis l'enregistrer",
    "message": "Fichier texte du message ({prenom} et {etablissement} sont remplacés)",
    "segment": (
        "Destinataires : a_activer (jamais commencé), en_cours (commencé, pas fini), "
        "actives, tous (par défaut)"
    ),
    "profil": "Seulement ce profil (plusieurs possibles)",
    "etablissement": "Seulement cet établissement",
    "canal": "Canal : telegram (par défaut), email ou tous",
    "objet": "Objet des e-mails (une ligne)",
    "maintenant": "Envoyer tout de suite, même pendant les heures calmes (QUIET_HOURS)",
    "yes": "Enregistrer sans demander de confirmation",
    "wait": "Attendre la fin de l'envoi, avec une barre de progression",
    "json": "Sortie JSON",
    "list": "Lister les campagnes",
    "status": "Où en est une campagne",
    "cancel": "Annuler une campagne",
    "number": "Numéro de la campagne",
}

CANAL_NOT_YET = (
    "Le canal e-mail demande un lien de désinscription : réglez BROADCAST_UNSUBSCRIBE_URL "
    "(voir le README), ou utilisez --canal telegram."
)
EMAIL_CONTACT_INVALID = "email_contact n'est pas une adresse e-mail valable"
NO_SUCH_FILE = "Fichier introuvable : {path}"
EMPTY_MESSAGE = "Le message est vide : écrivez-le dans le fichier {path}."
SUBJECT_ON_ONE_LINE = (
    "L'objet (--objet) doit tenir sur une ligne, sans caractère de contrôle : "
    "retirez le retour à la ligne."
)
MESSAGE_TOO_LONG = "Le message est trop long ({length} caractères, 4000 au plus)."
NO_SUCH_CAMPAIGN = "Aucune campagne n° {number}."
CONFIRM = "Enregistrer et envoyer cette campagne ? [o/N] "
NOT_RECORDED = "Campagne non enregistrée."
NO_RECIPIENT = "Personne ne correspond à ces critères : aucune campagne enregistrée."


def no_recipient_hint(by_email: int, *, email_open: bool) -> str:
    """Nobody on Telegram, but ``by_email`` people of the segment have an address (accounts
    never started are seldom linked to Telegram)."""
    hint = (
        f"Par e-mail, {by_email} personne(s) de ces critères sont joignables : "
        "ajoutez --canal email (ou --canal tous)"
    )
    if not email_open:
        hint += ", après avoir réglé BROADCAST_UNSUBSCRIBE_URL (voir le README)"
    return hint + "."


NO_RECIPIENT_TELEGRAM = (
    "Sur Telegram, on ne joint que les personnes liées à un compte ou qui ont commencé une "
    "démarche : un compte jamais commencé (a_activer) n'a en général personne à joindre. "
    "Pour ces comptes : --canal email, avec la colonne email_contact du CSV des comptes, ou les "
    "courriers (accounts letters)."
)
CANCELLED = "Campagne n° {number} annulée (les messages déjà partis ne sont pas repris)."
CANNOT_CANCEL = "La campagne n° {number} est déjà {state} : rien à annuler."
NO_CAMPAIGN = "Aucune campagne pour l'instant."
WAIT_DESC = "Envoi"
WAIT_NO_BOT_DESC = "En attente du bot"


def wait_no_bot(number: int) -> str:
    """``--wait`` while no bot runs: nothing will move, so it stops (exit code 3)."""
    return (
        f"Aucun bot ne tourne : rien ne bougera tant qu'il n'est pas démarré. La campagne "
        f"n° {number} reste enregistrée et partira à son démarrage ; pour la suivre ensuite : "
        f"run_bot.py broadcast status {number} --wait"
    )


STATES = {
    "en_attente": "en attente",
    "en_cours": "en cours",
    "terminee": "terminée",
    "annulee": "annulée",
}


def unknown_placeholders(words: list[str]) -> str:
    """A message with ``{word}`` that are not placeholders."""
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    found = ", ".join("{" + word + "}" for word in words)
    return f"Le message contient {found} : seuls {allowed} sont remplacés. Corrigez le fichier."


def preview(number: int, counts: dict[str, int], sample: str, subject: str | None = None) -> str:
    """What staff see before confirming (``subject``: with the e-mail channel)."""
    lines = [f"Campagne n° {number}"]
    lines += [f"  {channel} : {count} destinataire(s)" for channel, count in counts.items()]
    lines += ["", "Message tel qu'un destinataire le lira :", "─" * 40]
    if subject is not None:
        lines += [f"Objet de l'e-mail : {subject}", ""]
    lines += [sample, f"[{OPT_OUT_BUTTON}]", "─" * 40]
    return "\n".join(lines)


def quiet_hours_wait(ends: datetime) -> str:
    """The campaign is recorded during the quiet hours."""
    return (
        f"Heures calmes : l'envoi commencera à {ends:%H:%M} (le {ends:%d/%m}). "
        "Pour envoyer tout de suite : --maintenant."
    )


def recorded(number: int, total: int) -> str:
    """After recording."""
    return (
        f"Campagne n° {number} enregistrée : {total} destinataire(s). "
        "Le bot en cours d'exécution l'envoie."
    )


def no_bot_running(seconds: float | None) -> str:
    """The heartbeat is old or missing."""
    if seconds is None:
        return "Attention : aucun bot n'a encore tourné sur cette base ; rien ne partira sans lui."
    return (
        f"Attention : aucun bot ne tourne (dernier signe de vie il y a {seconds:.0f} s) ; "
        "l'envoi reprendra à son démarrage."
    )


def status_text(values: dict[str, object]) -> str:
    """``broadcast status N``."""
    state = STATES.get(str(values["state"]), str(values["state"]))
    return (
        f"Campagne n° {values['id']} : {state}\n"
        f"  destinataires : {values['recipients']}\n"
        f"  envoyés : {values['sent']}\n"
        f"  bloqués : {values['blocked']}\n"
        f"  échecs : {values['failed']}\n"
        f"  incertains : {values['uncertain']}\n"
        f"  {_pending_label(values)} : {values['pending']}\n"
        f"  débit : {values['rate_per_s']} message(s)/s"
    )


def _pending_label(values: dict[str, object]) -> str:
    """Rows not sent: waiting, or never to leave once the campaign is cancelled."""
    if values["state"] == "annulee":
        return "non envoyés (campagne annulée)"
    return "en attente"


def list_line(values: dict[str, object]) -> str:
    """One line of ``broadcast list``."""
    state = STATES.get(str(values["state"]), str(values["state"]))
    return (
        f"n° {values['id']} · {state} · {values['sent']}/{values['recipients']} envoyés · "
        f"{values['blocked']} bloqués · {values['failed']} échecs · "
        f"{values['uncertain']} incertains"
    )


# --- /diffusion (staff, in Telegram) ------------------------------------------------------------

SEGMENT_LABELS = {
    "a_activer": "Jamais commencé",
    "en_cours": "Activation en cours",
    "actives": "Comptes activés",
    "tous": "Tout le monde",
}
CANAL_LABELS = {"telegram": "Telegram", "email": "E-mail", "tous": "Telegram et e-mail"}
DIFF_CHOOSE_SEGMENT = "📣 <b>Nouvelle diffusion</b>\nÀ qui envoyer le rappel ?"
DIFF_CHOOSE_CANAL = "Par quel canal ?"
DIFF_WRITE = (
    "Écrivez le message dans votre prochain envoi.\n"
    "{prenom} et {etablissement} seront remplacés pour chacun."
)
DIFF_EMPTY = "Le message est vide : écrivez-le en texte."
DIFF_NOBODY = (
    "Personne ne correspond à ce choix : diffusion abandonnée. /diffusion pour recommencer."
)
DIFF_ABANDONED = "Diffusion abandonnée."
DIFF_STALE = "Ce bouton n'est plus valable : /diffusion pour recommencer."
BUTTON_SEND = "✅ Envoyer"
BUTTON_SEND_NOW = "⚡ Envoyer maintenant"
BUTTON_ABANDON = "✖️ Abandonner"
BUTTON_PAUSE = "⏸ Pause"
BUTTON_RESUME_CAMPAIGN = "▶️ Reprendre l'envoi"
BUTTON_CANCEL_CAMPAIGN = "✖️ Annuler la campagne"


def diff_unknown_placeholders(words: list[str]) -> str:
    """The typed message has ``{word}`` that are not placeholders."""
    allowed = " et ".join("{" + name + "}" for name in PLACEHOLDERS)
    found = ", ".join("{" + word + "}" for word in words)
    return f"{escape(found)} ne sera pas remplacé : seuls {allowed} le sont. Écrivez le message à nouveau."


def diff_preview(sample: str, counts: dict[str, int], quiet_until: datetime | None) -> str:
    """The preview before confirming (``sample``: as the first recipient reads it)."""
    lines = ["<b>Aperçu</b> (tel qu'un destinataire le lira) :", "", escape(sample), ""]
    lines += [f"{CANAL_LABELS.get(c, c)} : {n} destinataire(s)" for c, n in counts.items()]
    if quiet_until is not None:
        lines += ["", f"🌙 Heures calmes : « Envoyer » attendra {quiet_until:%H:%M}."]
    return "\n".join(lines)


def diff_progress(
    number: int, done: int, total: int, rate: float, eta: float | None, paused: bool
) -> str:
    """The progress message, edited in place."""
    state = "⏸ en pause" if paused else "en cours"
    lines = [f"📣 Campagne n° {number} : {state}", f"{done} / {total} traités"]
    if rate:
        lines.append(f"{rate:g} message(s)/s")
    if eta is not None and not paused:
        minutes, seconds = divmod(int(eta), 60)
        lines.append(f"fin dans {minutes} min {seconds:02d} s environ")
    return "\n".join(lines)


def diff_report(
    number: int, state: str, sent: int, blocked: int, failed: int, uncertain: int
) -> str:
    """The final report."""
    return (
        f"📣 Campagne n° {number} {STATES.get(state, state)}\n"
        f"envoyés : {sent}\nbloqués : {blocked}\néchecs : {failed}\nincertains : {uncertain}"
    )
