"""What staff read in the log about incoming e-mail (French, never an address nor a text)."""

from __future__ import annotations

OUTCOMES = {
    "answered": "réponse automatique mise en file d'envoi",
    "automatic": "message automatique (absence, retour d'erreur…), sans réponse",
    "capped": "plafond de réponses atteint pour cette adresse, sans réponse",
    "unverified": "DMARC en échec (l'expéditeur n'est pas celui qu'il dit), sans réponse",
    "no_sender": "sans expéditeur lisible, sans réponse",
    "own": "envoyé par le bot lui-même, sans réponse",
}


def handled(uidvalidity: int, uid: int, outcome: str, reason: str | None) -> str:
    """One incoming message handled."""
    why = f" [{reason}]" if reason else ""
    return f"E-mail reçu {uidvalidity}:{uid} : {OUTCOMES.get(outcome, outcome)}{why}."


def reading(host: str, port: int, mailbox: str, idle: bool) -> str:
    """The reader is connected."""
    how = "le serveur prévient à chaque arrivée (IDLE)" if idle else "coup d'œil régulier"
    return f"E-mails reçus : lecture de {mailbox} sur {host}:{port} ({how})."


def unreachable(host: str, port: int, cause: str, delay: float) -> str:
    """The mailbox cannot be read now."""
    return (
        f"E-mails reçus : la boîte {host}:{port} ne peut pas être lue ({cause}) ; nouvel essai "
        f"dans {delay:.0f} s. Vérifiez IMAP_HOST, IMAP_PORT, IMAP_SECURITY, IMAP_USER et "
        "IMAP_PASSWORD."
    )


NO_INBOUND_ADDRESS = (
    "IMAP_HOST est défini mais pas INBOUND_EMAIL (l'adresse de la boîte) : les e-mails reçus "
    "ne sont pas lus."
)
