"""Texts for the school's IT staff, in French: the command line (``run_bot.py accounts …``,
``run_bot.py outbox``, ``--help``), the staff chat commands (/stats, /compte), the printed letters
and the labels staff read for steps, events and funnel stages. Plain text for the terminal;
``*_html`` for Telegram (values escaped here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from bot.config.school import SchoolConfig
from bot.texts.formatting import aligned, duration, when

# Import of the school's CSV file (``run_bot.py accounts import``): plain text for a terminal.

IMPORT_NOT_UTF8 = (
    "le fichier n'est pas en UTF-8 (octet {position}) : enregistrez-le en « CSV UTF-8 »"
)
IMPORT_EMPTY_FILE = "le fichier est vide"
IMPORT_MISSING_COLUMNS = "colonne(s) manquante(s) : {columns}"
IMPORT_EXTRA_CELLS = "plus de cellules que de colonnes (un ; ou une , dans une valeur ?)"
IMPORT_NO_IDENTIFIANT = "identifiant vide"
IMPORT_SPACE_IN_IDENTIFIANT = "l'identifiant contient une espace"
IMPORT_CONTROL_IN_IDENTIFIANT = (
    "l'identifiant contient un caractère de contrôle (retour à la ligne, tabulation…)"
)
IMPORT_NO_PROVISIONAL = "mot_de_passe_provisoire vide"
IMPORT_PROVISIONAL_REFUSED = (
    "mot_de_passe_provisoire refusé : 8 à 128 caractères, sans espace ni retour à la ligne "
    "(la règle d'accounts reset)"
)
IMPORT_UNKNOWN_PROFIL = "profil inconnu {value!r} (attendu : {allowed})"
IMPORT_TOO_LONG = "{column} dépasse {limit} caractères"
IMPORT_DUPLICATE = "identifiant déjà présent ligne {line}"
# ``run_bot.py --help`` and its sub-commands.
CLI_HELP = {
    "description": "Bot d'activation des comptes ENT. Sans commande : lance le bot (le bac à sable local si TELEGRAM_BOT_TOKEN n'est pas renseigné).",
    "run": "lance le bot sur Telegram (TELEGRAM_BOT_TOKEN nécessaire)",
    "sandbox": "lance le bac à sable local (sans Telegram)",
    "accounts": "outils de l'équipe pour les comptes",
    "import": "importe les comptes d'un fichier CSV",
    "import_file": "fichier CSV (colonnes : voir le README)",
    "dry_run": "vérifie le fichier et dit ce qui changerait, sans rien écrire",
    "show": "un compte : statut, étape atteinte, dates, blocage",
    "json": "sortie JSON",
    "reset": "remet le compte « à activer » avec un nouveau mot de passe provisoire (affiché une fois) ; le lien Telegram est gardé, le blocage levé ; l'utilisateur refait l'activation",
    "password": "mot de passe provisoire à donner (par défaut : un mot de passe sûr est généré)",
    "unlock": "lève le blocage d'un identifiant",
    "history": "le journal d'audit d'un compte",
    "export": "l'état de chaque compte dans un fichier CSV",
    "export_file": "fichier CSV à écrire (séparateur ;, UTF-8)",
    "stats": "l'entonnoir d'activation, par profil et par établissement",
    "letters": "courriers à imprimer (PDF, une page par compte encore à activer). Chaque compte reçoit un NOUVEAU mot de passe provisoire : les courriers précédents ne marchent plus.",
    "letters_description": "Courriers à imprimer, une page A4 par compte encore à activer : l'identifiant, un NOUVEAU mot de passe provisoire (seuls des hachages sont gardés : imprimer un courrier est la seule façon d'en donner un, les courriers précédents ne marchent plus), les étapes et un QR code propre à ce courrier (https://t.me/<bot>?start=c_… : un jeton tiré au sort, gardé seulement en HMAC, qui ouvre le bot au mot de passe provisoire de ce compte ; un nouveau courrier ou reset l'annule). Le lien imprimé en clair, https://t.me/<bot>?start=activer, ne porte aucun secret.",
    "letters_file": "fichier PDF à écrire",
    "profil": "seulement ce profil (apprenti, eleve, parent…)",
    "etablissement": "seulement cet établissement",
    "yes": "ne pas demander de confirmation",
    "outbox": "la file d'envoi (e-mails, effacements de messages) : en attente, plus ancien, échecs, dernière erreur",
}
OUTBOX_NO_DATABASE = "Base introuvable : {path} (le bot n'a encore jamais tourné ici ?)"
OUTBOX_KINDS = {
    "code_mail": "e-mails de code",
    "notice_mail": "e-mails d'avis",
    "telegram_delete": "messages à effacer",
}


def outbox_report_text(
    pending: int,
    oldest_pending_at: datetime | None,
    retrying: int,
    given_up: int,
    sent_last_day: int,
    last_error: str | None,
    last_error_at: datetime | None,
    pending_by_kind: dict[str, int],
    uncertain: int = 0,
    in_flight: int = 0,
) -> str:
    """The outbox for the terminal (never a secret nor an address)."""
    fields = [
        ("En attente", str(pending)),
        *(
            (f"  dont {OUTBOX_KINDS.get(kind, kind)}", str(count))
            for kind, count in sorted(pending_by_kind.items())
        ),
        ("  dont en cours d'envoi", str(in_flight)),
        ("Plus ancien en attente", when(oldest_pending_at)),
        ("En échec, nouvel essai prévu", str(retrying)),
        ("Abandonnés (délai dépassé, refus)", str(given_up)),
        ("  dont incertains (peut-être partis)", str(uncertain)),
        ("Envoyés (24 h)", str(sent_last_day)),
        (
            "Dernière erreur",
            f"{last_error} ({when(last_error_at)})" if last_error else "aucune",
        ),
    ]
    return "File d'envoi\n" + aligned(fields)


RUN_NEEDS_TOKEN = (
    "TELEGRAM_BOT_TOKEN n'est pas renseigné : voir le README (« Mise en service avec Telegram »)."
)
IMPORT_NO_SUCH_FILE = "Fichier introuvable : {path}"
IMPORT_CANNOT_READ = "Import impossible de {path} : {error}"


def import_summary(
    path: str,
    total: int,
    added: int,
    updated: int,
    unchanged: int,
    rejected: list[tuple[int, str]],
    *,
    dry_run: bool,
) -> str:
    """What an import did (or would do, with ``--dry-run``), rejected lines with their number."""
    lines = [
        f"{total} ligne(s) lue(s) dans {path}"
        + (" (essai à blanc : rien n'est écrit)" if dry_run else ""),
        f"  ajoutés :    {added}",
        f"  mis à jour : {updated}",
        f"  inchangés :  {unchanged}",
        f"  rejetés :    {len(rejected)}",
    ]
    lines += [f"    ligne {number} : {reason}" for number, reason in rejected]
    if rejected:
        lines.append(
            "Les autres lignes seraient importées."
            if dry_run
            else "Les autres lignes sont importées."
        )
    return "\n".join(lines)


# Read by the school's IT staff (``run_bot.py accounts …``, /stats and /compte for the Telegram
# ids of STAFF_TELEGRAM_IDS). Plain text for the terminal; *_html for Telegram.

STAFF_STATUS = {
    "a_activer": "à activer",
    "active": "actif",
    # an LDAP directory's blocked and deleted entries (issue 25)
    "bloque": "bloqué dans l'annuaire",
    "supprime": "supprimé dans l'annuaire",
    "educonnect": "se connecte avec EduConnect",
}
# What staff read for each step, one dict a procedure (each registers its own: see
# conversations.flows; a step without a label is refused at start-up).
STAFF_STEPS_ACTIVATION = {
    "profil": "choix du profil",
    "identifiant": "identifiant",
    "mot_de_passe_provisoire": "mot de passe provisoire",
    "cgu": "CGU à accepter",
    "choix_secours": "choix e-mail ou questions secrètes",
    "email": "adresse e-mail",
    "email_confirmation": "confirmation de l'adresse e-mail",
    "code": "code e-mail attendu",
    "question1": "questions secrètes",
    "reponse1": "questions secrètes",
    "reponse1_confirmation": "questions secrètes",
    "question2": "questions secrètes",
    "reponse2": "questions secrètes",
    "reponse2_confirmation": "questions secrètes",
    "mot_de_passe": "nouveau mot de passe",
    "confirmation": "confirmation du mot de passe",
}
STAFF_STEPS_RECOVERY = {
    "mdp_identifiant": "mot de passe oublié : identifiant",
    "mdp_methode": "mot de passe oublié : choix e-mail ou questions",
    "mdp_code": "mot de passe oublié : code e-mail attendu",
    "mdp_reponse1": "mot de passe oublié : questions secrètes",
    "mdp_reponse2": "mot de passe oublié : questions secrètes",
    "mdp_nouveau": "mot de passe oublié : nouveau mot de passe",
    "mdp_confirmation": "mot de passe oublié : confirmation",
}
STAFF_STEPS_MY_ACCOUNT = {
    "mc_mot_de_passe": "mon compte : mot de passe actuel",
    "mc_email": "mon compte : nouvelle adresse e-mail",
    "mc_email_confirmation": "mon compte : confirmation de l'adresse",
    "mc_code": "mon compte : code e-mail attendu",
    "mc_question1": "mon compte : questions secrètes",
    "mc_reponse1": "mon compte : questions secrètes",
    "mc_reponse1_confirmation": "mon compte : questions secrètes",
    "mc_question2": "mon compte : questions secrètes",
    "mc_reponse2": "mon compte : questions secrètes",
    "mc_reponse2_confirmation": "mon compte : questions secrètes",
}
STAFF_STEPS = {
    "pas_commence": "pas commencée",
    **STAFF_STEPS_ACTIVATION,
    **STAFF_STEPS_RECOVERY,
    **STAFF_STEPS_MY_ACCOUNT,
    "active": "compte activé",
}
STAFF_RECOVERY = {"email": "e-mail vérifié", "questions": "questions secrètes"}
STAFF_FUNNEL_STAGES = {
    "imported": "Importés",
    "started": "Activation commencée",
    "cgu_accepted": "CGU acceptées",
    "recovery_set": "E-mail vérifié ou questions",
    "active": "Actifs",
}
STAFF_EVENTS = {
    "imported": "import",
    "activation_started": "activation commencée",
    "cgu_accepted": "CGU acceptées",
    "email_verified": "e-mail vérifié",
    "questions_set": "questions secrètes choisies",
    "password_set": "mot de passe choisi",
    "reset": "réinitialisation",
    "unlock": "déblocage",
    "letter": "courrier imprimé (nouveau mot de passe provisoire)",
    "recovery": "mot de passe oublié : changé",
    "unlink": "Telegram délié",
    "data_deleted": "données supprimées",
}


# An account for staff (bot.staff.report lays it out): the label of each field, in order.
STAFF_REPORT_LABELS = {
    "identifiant": "Identifiant",
    "nom": "Nom",
    "profil": "Profil",
    "etablissement": "Établissement",
    "status": "Statut",
    "step": "Étape atteinte",
    "recovery": "Secours",
    "email": "E-mail",
    "telegram": "Telegram",
    "imported_at": "Importé le",
    "updated_at": "Modifié le",
    "cgu_accepted_at": "CGU acceptées le",
    "activated_at": "Activé le",
    "procedure_updated_at": "Démarche en cours",
    "last_letter_at": "Dernier courrier",
    "last_reset_at": "Dernière réinitialisation",
    "lock": "Blocage",
    "failures": "Échecs (consécutifs / 24 h)",
}
STAFF_REPORT_TITLE_HTML = "👤 <b>Compte</b>"
STAFF_NONE = "—"
STAFF_NO_RECOVERY = "aucun"


def staff_telegram(user_id: int | None) -> str:
    """Whether a Telegram account is linked."""
    return f"lié (id {user_id})" if user_id else "non lié"


def staff_lock(locked: bool, locked_at: datetime | None, retry_after: timedelta | None) -> str:
    """The lock of an identifier: locked (by staff only), tries suspended for a while, or none."""
    if locked:
        return f"BLOQUÉ depuis {when(locked_at)} (run_bot.py accounts unlock)"
    if retry_after is not None:
        return f"essais suspendus encore {duration(retry_after)}"
    return "non"


def staff_failures(consecutive: int, last_24h: int) -> str:
    """Failed tries of an identifier."""
    return f"{consecutive} / {last_24h}"


def staff_account_locked(identifiant: str | None, failures: int) -> str:
    """Told to staff in Telegram when an identifier reaches the staff-only lock."""
    who = f"Le compte <b>{escape(identifiant)}</b>" if identifiant else "Un identifiant inconnu"
    unlock = (
        f"\nPour le débloquer : <code>run_bot.py accounts unlock {escape(identifiant)}</code> "
        "(ou /compte dans Telegram pour voir son état)."
        if identifiant
        else ""
    )
    return (
        f"🔒 {who} est bloqué après {failures} essais faux en 24 heures.\n"
        "Son propriétaire peut encore retrouver l'accès par « Mot de passe oublié » avec le code "
        f"envoyé à son adresse vérifiée.{unlock}"
    )


def staff_unknown_account(identifiant: str) -> str:
    """No account has this identifier (staff only: users are never told)."""
    return f"Aucun compte n'a l'identifiant « {identifiant} »."


def staff_unknown_account_html(identifiant: str) -> str:
    """:func:`staff_unknown_account` for a staff chat."""
    return escape(staff_unknown_account(identifiant))


STAFF_COMPTE_USAGE = "Usage : <code>/compte IDENTIFIANT</code>"
STAFF_PASSWORD_REFUSED = (
    "Mot de passe provisoire refusé : 8 à 128 caractères, sans espace. "
    "Sans --mot-de-passe, un mot de passe sûr est généré."
)


def staff_reset_done(identifiant: str, password: str, generated: bool, was_locked: bool) -> str:
    """After a reset; the provisional password is shown this once."""
    origin = "généré" if generated else "choisi"
    lines = [
        f"Compte « {identifiant} » réinitialisé : statut « à activer », lien Telegram gardé.",
        f"Nouveau mot de passe provisoire ({origin}) : {password}",
        "Il n'est affiché qu'une fois : remettez-le à l'utilisateur (ou imprimez un courrier",
        "avec « accounts letters », qui en génère un nouveau). L'utilisateur refait",
        "l'activation et accepte à nouveau les CGU.",
    ]
    if was_locked:
        lines.append("Le blocage de l'identifiant a été levé.")
    return "\n".join(lines)


def staff_unlock_done(identifiant: str, was_locked: bool, failures: int) -> str:
    """After an unlock."""
    if was_locked:
        return f"Identifiant « {identifiant} » débloqué ; ses échecs sont oubliés."
    if failures == 0:
        return f"L'identifiant « {identifiant} » n'est pas bloqué : rien à faire."
    if failures == 1:
        return (
            f"L'identifiant « {identifiant} » n'était pas bloqué ; son échec des dernières "
            "24 h est oublié."
        )
    return (
        f"L'identifiant « {identifiant} » n'était pas bloqué ; ses {failures} échecs des "
        "dernières 24 h sont oubliés."
    )


def export_no_folder(folder: str) -> str:
    """``accounts export`` into a folder that does not exist."""
    return f"Dossier introuvable : {folder}. Créez-le, ou indiquez un autre chemin."


def unknown_profil(value: str, allowed: list[str]) -> str:
    """``--profil`` with a value that is not a profile."""
    return f"Profil inconnu : « {value} ». Profils possibles : {', '.join(allowed)}."


TOKEN_REFUSED = (
    "Telegram refuse le jeton du bot (TELEGRAM_BOT_TOKEN) : vérifiez-le auprès de @BotFather "
    "(/token), puis relancez. Le jeton n'est jamais affiché."
)
CLI_USAGE = "usage : "
CLI_ARGUMENTS = "arguments"
CLI_OPTIONS = "options"
CLI_HELP_OPTION = "afficher cette aide et quitter"


def cli_error(program: str, message: str) -> str:
    """A command line that cannot be understood: the error in French, and how to get help."""
    return f"{program} : {message}\nPour l'aide : python {program} --help"


# argparse's own messages (English), said in French.
CLI_ERRORS = (
    (r"the following arguments are required: (.*)", "il manque : {0}"),
    (
        r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)",
        "{0} : choix inconnu {1} (possibles : {2})",
    ),
    (r"unrecognized arguments: (.*)", "arguments inconnus : {0}"),
    (r"argument (.*?): expected one argument", "{0} : une valeur est attendue"),
    (r"argument (.*?): invalid (.*?) value: (.*)", "{0} : valeur invalide {2}"),
)


STAFF_HISTORY_EMPTY = "Aucun événement pour « {identifiant} »."
STAFF_HISTORY_TITLE = "Journal de « {identifiant} » (heures UTC) :"


# The words the audit trail stores in an event's details (English keys, kept as they are in
# the database and in ``history --json``), as staff read them in ``history``.
STAFF_EVENT_DETAILS = {
    "added": "ajouté",
    "updated": "mis à jour",
    "activation": "à l'activation",
    "recovery": "par « mot de passe oublié »",
    "moncompte": "par « Mon compte »",
    "password=generated": "mot de passe provisoire tiré au hasard",
    "password=given": "mot de passe provisoire donné",
    "unlocked": "blocage levé",
    "was=locked": "était bloqué",
}


def staff_event_details(details: str) -> str:
    """An event's details in French: each known word translated, the rest (a file name, a
    filter) as it is."""
    words = []
    for word in details.split(","):
        if word.startswith("failures=") and word[len("failures=") :].isdigit():
            words.append(f"{word[len('failures=') :]} échec(s) en 24 h")
        elif word.startswith("uai=") and word[len("uai=") :]:  # a region (issue 27)
            words.append(f"établissement {word[len('uai=') :]}")
        else:
            words.append(STAFF_EVENT_DETAILS.get(word, word))
    return ", ".join(words)


def staff_history_line(at: datetime, event: str, actor: str, details: str | None) -> str:
    """One event of an audit trail."""
    extra = f" [{staff_event_details(details)}]" if details else ""
    return f"{when(at)}  {STAFF_EVENTS.get(event, event)} — {actor}{extra}"


def staff_export_done(count: int, path: str) -> str:
    """After an export."""
    return f"{count} compte(s) exporté(s) dans {path}."


STAFF_FUNNEL_TITLE = "Activation des comptes"
STAFF_FUNNEL_TITLE_HTML = "📊 <b>Activation des comptes</b>"
# Column heads of the funnel's tables, one per stage of STAFF_FUNNEL_STAGES, and the groupings.
STAFF_FUNNEL_HEADS = ("Importés", "Commencés", "CGU", "Secours", "Actifs")
STAFF_FUNNEL_GROUPS = {"profil": "Profil", "etablissement": "Établissement"}
STAFF_FUNNEL_CUT = "\n… (la suite : run_bot.py accounts stats)"


def staff_funnel_stage(label: str, count: int, imported: int) -> str:
    """One stage of the funnel, with its share of the imported accounts."""
    share = f" ({100 * count / imported:.0f} %)" if imported else ""
    return f"{label} : {count}{share}"


STAFF_SUPPORT_TITLE_HTML = "🆘 <b>Demandes à l'équipe</b>"
STAFF_SUPPORT_OPEN = "Ouvertes : {count}"
STAFF_SUPPORT_MEDIAN = "1re réponse, délai médian ({days} derniers jours{hours}) : {median}"
STAFF_SUPPORT_MEDIAN_HOURS = ", heures d'ouverture"
STAFF_SUPPORT_ANSWERED = "{count} demande(s) répondue(s)"


def staff_support_html(
    open_tickets: int, median: timedelta | None, answered: int, days: int, opening_hours: bool
) -> str:
    """The support lines of /stats (« — » when no ticket was answered in the window)."""
    shown = (
        f"{duration(median)} ({STAFF_SUPPORT_ANSWERED.format(count=answered)})"
        if median is not None
        else "—"
    )
    hours = STAFF_SUPPORT_MEDIAN_HOURS if opening_hours else ""
    return "\n".join(
        [
            STAFF_SUPPORT_TITLE_HTML,
            STAFF_SUPPORT_OPEN.format(count=open_tickets),
            escape(STAFF_SUPPORT_MEDIAN.format(days=days, hours=hours, median=shown)),
        ]
    )


STAFF_CHART_TITLE = "Activation des comptes"
STAFF_CHART_CAPTION = "📊 Entonnoir d'activation (tous les comptes)"
STAFF_BOT_USERNAME_MISSING = (
    "Le nom du bot est inconnu : renseignez TELEGRAM_BOT_USERNAME (ou TELEGRAM_BOT_TOKEN, "
    "le nom est alors demandé à Telegram)."
)
STAFF_LETTERS_NONE = "Aucun compte à activer ne correspond : aucun courrier."
STAFF_LETTERS_CANCELLED = "Abandon : aucun mot de passe n'a été changé, aucun courrier écrit."


def staff_letters_confirm(count: int, path: str) -> str:
    """Question before printing letters."""
    return (
        f"{count} courrier(s) vont être écrits dans {path}. Chaque compte reçoit un NOUVEAU "
        "mot de passe provisoire : les courriers déjà remis ne serviront plus. Continuer ? [o/N] "
    )


def staff_letters_done(count: int, path: str) -> str:
    """After printing letters."""
    return (
        f"{count} courrier(s) écrits dans {path} (une page par compte). Les mots de passe "
        "provisoires ne sont que dans ce PDF : imprimez-le puis supprimez-le."
    )


# --- Staff: printed letters (PDF, one A4 page per account) ---


def letter_title(school: SchoolConfig) -> str:
    """Title of an activation letter."""
    return f"Activation de votre compte {school.ent_nom}"


def letter_greeting(prenom: str, nom: str) -> str:
    """First line of a letter."""
    name = f"{prenom} {nom}".strip()
    return f"Bonjour {name}," if name else "Bonjour,"


def letter_intro(school: SchoolConfig, etablissement: str | None = None) -> str:
    """Why the user gets this letter (``etablissement``: the account's, by default the
    school's)."""
    return (
        f"Voici vos codes pour activer votre compte {school.ent_nom} de "
        f"{etablissement or school.etablissement}. "
        "Un assistant Telegram vous guide pas à pas, depuis votre téléphone. Cela prend "
        "environ 5 minutes."
    )


LETTER_IDENTIFIANT = "Identifiant"
LETTER_PROVISIONAL = "Mot de passe provisoire"
LETTER_STEPS_TITLE = "Les étapes"
LETTER_QR_CAPTION = "Scannez-moi avec l'appareil photo de votre téléphone"


def letter_steps(school: SchoolConfig, link: str) -> list[str]:
    """The procedure in short."""
    return [
        "Scannez le QR code : Telegram s'ouvre sur l'assistant, qui reconnaît ce courrier. "
        f"Touchez « Démarrer ». (Sans appareil photo : ouvrez {link}, puis tapez votre "
        "identifiant.)",
        "Tapez votre mot de passe provisoire (recopiez-le exactement, majuscules comprises).",
        "Lisez et acceptez les conditions d'utilisation (CGU).",
        "Choisissez comment retrouver votre mot de passe en cas d'oubli : une adresse e-mail "
        "ou deux questions secrètes.",
        f"Choisissez votre mot de passe : c'est lui qui vous servira ensuite sur {school.ent_url}.",
    ]


LETTER_WARNING = (
    "Ce mot de passe provisoire remplace celui de tout courrier précédent. Gardez ce courrier "
    "pour vous : ne donnez jamais votre mot de passe, même à l'assistance."
)
LETTER_HELP_TITLE = "Besoin d'aide ?"


def letter_contacts(school: SchoolConfig) -> list[str]:
    """One line per contact of the school."""
    lines = []
    for contact in school.contacts:
        parts = [contact.nom + (f" ({contact.role})" if contact.role else "")]
        parts += [p for p in (contact.email, contact.telephone, contact.horaires) if p]
        lines.append(" — ".join(parts))
    return lines


def letter_footer(printed_on: datetime) -> str:
    """Bottom line of a letter."""
    return f"Courrier imprimé le {printed_on.strftime('%d/%m/%Y')}."


# Files of the installation (``ENT_BOT_HOME``; the database and the key are private, 0600).
_HOME_RULE = (
    "Les chemins relatifs partent du dossier de l'installation : ENT_BOT_HOME s'il est donné, "
    "sinon le dossier du fichier .env lu (le dossier courant, sinon celui de run_bot.py), "
    "sinon le dossier courant."
)


def no_database(path: str) -> str:
    """A staff command found no database (it never creates one)."""
    return (
        f"Aucune base de données à {path} : cette commande n'en crée pas.\n{_HOME_RULE}\n"
        "Lancez la commande depuis le dossier de l'installation, ou indiquez-le avec "
        "ENT_BOT_HOME=/chemin/du/bot (ou DATABASE_PATH)."
    )


def no_server_key(path: str) -> str:
    """The database is there but not the server key (a new key would void every code sent)."""
    return (
        f"Aucune clé serveur à {path}, alors que la base de données existe : cette commande "
        "n'en crée pas (une nouvelle clé rendrait caducs les codes et les liens envoyés).\n"
        f"{_HOME_RULE}\nVérifiez SERVER_SECRET_FILE ou ENT_BOT_HOME."
    )


def file_permissions_refused(path: str, mode: int) -> str:
    """A private file others can read, whose mode this user cannot change."""
    return (
        f"{path} est lisible par d'autres utilisateurs de la machine (droits {mode:04o}) et ce "
        "compte ne peut pas changer ses droits : le bot refuse de s'en servir.\n"
        f"Corrigez-les (chmod 600 {path}) ou lancez le bot avec le compte propriétaire du fichier."
    )
