"""French texts of the operations tools (issue 16): ``run_bot.py init``, start-up refusals and
retries, health, alerts, backups. Never a secret: paths, host names and error types only."""

from __future__ import annotations

CLI_INIT_HELP = (
    "prépare l'installation : fichier de l'établissement (depuis l'exemple), clé serveur et "
    "base de données ; n'écrase jamais un fichier existant"
)
CLI_RUN_HELP_WITH_TOKEN = "lance le bot avec TELEGRAM_BOT_TOKEN (sans jeton : refuse)"

RUN_WITHOUT_COMMAND = (
    "Avertissement : « run_bot.py » sans commande lance le bot parce que TELEGRAM_BOT_TOKEN est "
    "réglé, mais cet usage est obsolète : utilisez `run_bot.py run` (qui ne lance jamais le bac "
    "à sable) ; sans jeton, `run_bot.py sandbox` lance le bac à sable."
)

INIT_CREATED = "créé"
INIT_KEPT = "gardé (il existait déjà)"


def init_line(what: str, path: str, created: bool) -> str:
    """One file ``init`` made or kept."""
    return f"  {what} : {path} — {INIT_CREATED if created else INIT_KEPT}"


INIT_SCHOOL = "Fichier de l'établissement"
INIT_CGU = "Texte des CGU"
INIT_SECRET = "Clé serveur (droits 600)"
INIT_DATABASE = "Base de données (droits 600)"
INIT_CGU_NAMED = "le fichier que nomme sa clé « cgu »"


def init_summary(home: str, lines: list[str], school: str, cgu: str) -> str:
    """What ``init`` did, and what to edit next."""
    return "\n".join(
        [
            f"Installation dans {home} :",
            *lines,
            "",
            "À faire ensuite :",
            f"  1. Adaptez {school} : nom de l'établissement, adresse de l'ENT, contacts, "
            "questions secrètes ;",
            f"     et remplacez le texte d'exemple des CGU dans {cgu}.",
            "  2. Renseignez TELEGRAM_BOT_TOKEN (donné par @BotFather) et le serveur SMTP "
            "(SMTP_HOST, SMTP_PORT, SMTP_SECURITY…) dans le fichier .env (modèle : .env.example).",
            "  3. Importez les comptes : run_bot.py accounts import comptes.csv",
            "  4. Lancez le bot : run_bot.py run",
        ]
    )


def school_missing(path: str) -> str:
    """The bot with a token refuses to start without the school's own file."""
    return (
        f"Le fichier de l'établissement {path} n'existe pas : créez-le avec « run_bot.py init » "
        "puis adaptez-le (ou indiquez le vôtre avec SCHOOL_CONFIG) ; le bot ne démarre pas avec "
        "l'établissement d'exemple."
    )


def school_invalid(error: str) -> str:
    """The school file cannot be read or misses a value (``error``: one of the texts below)."""
    return (
        f"Le fichier de l'établissement est incorrect ({error}) : corrigez-le d'après "
        "l'exemple commenté config/school.example.toml, puis relancez."
    )


# The school file's errors (bot.school.SchoolConfigError), each naming the file and what to fix.
FILE_NOT_FOUND = "fichier introuvable"
FILE_NOT_READABLE = "lecture refusée par les droits du fichier"
FILE_IS_A_FOLDER = "c'est un dossier, pas un fichier"
FILE_NOT_UTF8 = "le fichier n'est pas en UTF-8 (enregistrez-le en UTF-8)"


def file_unreadable(error_type: str) -> str:
    """Another reason a file cannot be read (its error's type only)."""
    return f"fichier illisible ({error_type})"


def school_unreadable(path: str, reason: str) -> str:
    return f"{path} ne peut pas être lu : {reason}"


def school_syntax(path: str, line: int | None, column: int | None) -> str:
    where = f" ligne {line}, colonne {column}" if line is not None else ""
    return f"{path} : syntaxe TOML incorrecte{where}"


def school_needs(path: str, section: str, key: str) -> str:
    return f"{path} : il manque « {key} » dans [{section}]"


def school_section(path: str, section: str) -> str:
    return f"{path} : [{section}] doit être une section"


def school_bad_url(path: str) -> str:
    return f"{path} : « ent_url » doit être une adresse en https:// (ou http://)"


def cgu_unreadable(path: str, reason: str) -> str:
    return f"le texte des CGU {path} ne peut pas être lu : {reason}"


def cgu_empty(path: str) -> str:
    return f"le texte des CGU {path} est vide"


def school_too_few_questions(path: str) -> str:
    return f"{path} : [questions_secretes] « liste » doit donner au moins 2 questions"


def quick_answer_needs(path: str) -> str:
    return f"{path} : chaque [[reponses_rapides]] doit avoir « titre » et « texte »"


def quick_answer_action(path: str, actions: str) -> str:
    return f"{path} : dans [[reponses_rapides]], « action » vaut {actions} (ou rien)"


def quick_answer_keywords(path: str) -> str:
    return f"{path} : dans [[reponses_rapides]], « mots_cles » doit être une liste"


def secret_lost(secret: str, database: str) -> str:
    """The database has accounts but the server key is gone: a new key would void everything."""
    return (
        f"La clé serveur {secret} est introuvable alors que la base {database} contient déjà "
        "des comptes : remettez la clé d'origine (par exemple depuis la sauvegarde faite avec la "
        "base, ou vérifiez SERVER_SECRET_FILE et ENT_BOT_HOME) — une nouvelle clé rendrait "
        "caducs tous les codes, blocages et empreintes d'import."
    )


STARTUP_STEPS = {
    "getMe": "la vérification du jeton auprès de Telegram (getMe)",
    "deleteWebhook": "le démarrage de la réception des messages (deleteWebhook)",
    "setWebhook": "l'enregistrement du webhook auprès de Telegram (setWebhook)",
}


def _seconds(delay: float) -> str:
    return f"{delay:g}".replace(".", ",")


def startup_retry(step: str, error: str, delay: float, attempt: int, api_url: str) -> str:
    """One line per failed start-up call to the Bot API: never the token."""
    return (
        f"Démarrage : {STARTUP_STEPS.get(step, step)} a échoué ({error}, essai {attempt}) : "
        f"le serveur Bot API {api_url} est injoignable ou en panne ; vérifiez l'accès réseau "
        f"de la machine et TELEGRAM_API_URL ; nouvel essai dans {_seconds(delay)} s."
    )


def smtp_retry(host: str, port: int, error: str, delay: float, attempt: int) -> str:
    """One line per failed start-up connection to the SMTP server: never the password."""
    return (
        f"Démarrage : le serveur d'e-mails {host}:{port} ne répond pas ({error}, essai "
        f"{attempt}) ; vérifiez SMTP_HOST, SMTP_PORT et SMTP_SECURITY ; nouvel essai dans "
        f"{_seconds(delay)} s."
    )


SMTP_REACHED = "Démarrage : le serveur d'e-mails {host}:{port} répond."


def alert(error: str, procedure: str | None, step: str | None) -> str:
    """The note to ALERT_CHAT_ID: the error's type, the procedure and step; never content."""
    where = f"démarche « {procedure} », étape « {step} »" if procedure else "hors démarche"
    return (
        f"Alerte : erreur non prévue dans le bot : {error} ({where}). Détails dans le journal du "
        "serveur ; au plus une alerte de ce type par 10 minutes."
    )


CLI_BACKUP_HELP = (
    "copie cohérente de la base, bot en marche ou non (API de sauvegarde de SQLite), avec la "
    "clé serveur à côté (FICHIER.key)"
)
CLI_BACKUP_FILE = "fichier de la copie (il ne doit pas exister)"


def backup_exists(path: str) -> str:
    """The backup never overwrites a file."""
    return (
        f"{path} existe déjà : choisissez un autre nom (une sauvegarde n'écrase jamais un fichier)."
    )


def backup_done(database: str, key: str) -> str:
    """What the backup wrote, and how to keep it."""
    return (
        f"Sauvegarde faite : base → {database}, clé serveur → {key} (droits 600).\n"
        "Gardez-les ensemble, en lieu sûr : la base sans sa clé rend caducs les codes, "
        "blocages et empreintes d'import ; la clé sans la base ne sert à rien."
    )


def database_too_new(path: str, found: int, known: int) -> str:
    """The database was migrated by a newer bot: old code must not run on it."""
    return (
        f"La base {path} a été mise à jour par une version plus récente du bot (migration "
        f"{found}, cette version connaît jusqu'à {known}) : installez la version qui l'a mise "
        "à jour, ou restaurez la sauvegarde faite avant la mise à jour."
    )


WEBHOOK_SECRET_MISSING = (
    "WEBHOOK_URL est réglé mais pas WEBHOOK_SECRET_TOKEN : donnez-lui 1 à 256 caractères parmi "
    "A-Z, a-z, 0-9, « _ » et « - » (par exemple la sortie de « openssl rand -hex 32 »), pour "
    "que le bot refuse les requêtes qui ne viennent pas de Telegram."
)


def webhook_url_refused(url: str) -> str:
    """Telegram delivers only to HTTPS (plain HTTP only to this machine, for tests)."""
    return (
        f"WEBHOOK_URL doit être une adresse publique en https:// (reçu : {url}) : Telegram "
        "n'envoie les messages qu'en HTTPS, par le proxy inverse de l'établissement."
    )


def log_burst(message: str, more: int, seconds: int) -> str:
    """A log line standing for a burst of the same event (bot.ops.logs.AggregatedWarning)."""
    return f"{message} (et {more} autre(s) en {seconds} s)"


WEBHOOK_REFUSED_TOKEN = "webhook : requête refusée (en-tête du jeton secret absent ou faux, 403)"
WEBHOOK_REFUSED_BODY = (
    "webhook : requête refusée (corps qui n'est pas une mise à jour Telegram, 400)"
)


def listen_reason(number: int | None) -> str:
    """Why a port cannot be opened, in French (never the system's English « [Errno 98] … »)."""
    import errno

    reasons = {
        errno.EADDRINUSE: "port déjà pris par un autre programme",
        errno.EADDRNOTAVAIL: "adresse qui n'est pas celle de cette machine",
        errno.EACCES: "port réservé : en dessous de 1024, il faut des droits d'administrateur",
    }
    if number in reasons:
        return reasons[number]
    code = errno.errorcode.get(number, str(number)) if number is not None else "inconnue"
    return f"erreur du système {code}"


def cannot_listen(what: str, host: str, port: int, setting: str, number: int | None) -> str:
    """The bot cannot open one of its ports (start-up refusal, one sentence)."""
    return (
        f"Le bot ne peut pas ouvrir {what} sur {host}:{port} ({listen_reason(number)}) : "
        f"choisissez un autre port avec {setting}, ou arrêtez le programme qui l'occupe."
    )


LISTEN_OPS = "le port d'exploitation (/healthz)"
LISTEN_WEBHOOK = "le port du webhook"
LISTEN_UNSUBSCRIBE = "le port de désinscription des rappels"
LISTEN_WEB = "le port de la discussion web (WEB_PORT)"


def bot_receiving(username: str, webhook: bool) -> str:
    """The log line once the bot is started."""
    how = "par webhook" if webhook else "en interrogeant Telegram"
    return f"Bot @{username} démarré : il reçoit les messages {how}."


# What each count of a purge (storage.maintenance.PurgeReport) is, in the log.
PURGE_LABELS = {
    "expired_codes": "codes et liens expirés effacés",
    "abandoned_sessions": "démarches abandonnées",
    "old_failures": "anciens échecs",
    "old_attempts": "anciens identifiants essayés",
}


def purge_done(counts: dict[str, int], outbox: int, campaigns: int, tickets: int) -> str:
    """The log line of one purge (a count the labels lack keeps its field name)."""
    parts = [f"{PURGE_LABELS.get(name, name)} : {count}" for name, count in counts.items()]
    parts += [
        f"éléments de la file d'envoi oubliés : {outbox}",
        f"campagnes oubliées : {campaigns}",
        f"demandes à l'équipe oubliées : {tickets}",
    ]
    return "Purge : " + ", ".join(parts) + "."
