"""French texts of the web channel (issue 24): the widget, the panel, the no-JavaScript page,
the API's kind refusals, and the demo engine (the stand-in until step 2 binds the procedures)."""

from __future__ import annotations

# --- the loader's button and the panel ------------------------------------------------------
OPEN_BUTTON = "Activer mon compte avec l'assistant"
PANEL_TITLE = "Assistant d'activation du compte ENT"
CLOSE_BUTTON = "Fermer l'assistant"
LOG_LABEL = "Conversation avec l'assistant"
MESSAGE_LABEL = "Votre message"
SECRET_LABEL = "Votre message secret (mot de passe)"
SEND_BUTTON = "Envoyer"
SHOW_SECRET = "Afficher le mot de passe"
HIDE_SECRET = "Masquer le mot de passe"
# What the toggle shows (its accessible name, above, begins with it: WCAG 2.5.3).
SHOW_SHORT = "Afficher"
HIDE_SHORT = "Masquer"
SECRET_SENT = "🔒 Mot de passe envoyé (il n'est pas affiché)"
YOU = "Vous"
BOT = "Assistant"
CHOICES_LABEL = "Choix proposés"
CONNECTING = "Connexion à l'assistant…"
OFFLINE = "Connexion perdue, nouvel essai dans quelques secondes…"
NOSCRIPT_LINK = "Activer mon compte avec l'assistant (version sans JavaScript)"
NO_JS_TITLE = "Assistant d'activation (version sans JavaScript)"
NO_JS_START = "Commencer"
NO_JS_INTRO = (
    "Cette page fonctionne sans JavaScript : chaque réponse recharge la page. "
    "Ne partagez pas son adresse, elle donne accès à votre conversation."
)
NO_JS_NEW = "Recommencer une nouvelle conversation"
NO_JS_NOTHING = "La conversation est terminée. Vous pouvez fermer cette page."

# --- the API's refusals (JSON {"error": code, "message": text}) ------------------------------
ERRORS = {
    "malformed": "Votre message n'a pas pu être lu. Rechargez la page et réessayez.",
    "too_large": "Ce message est trop long. Raccourcissez-le et réessayez.",
    "too_fast": "Vous allez un peu vite ! Patientez quelques secondes avant de réessayer.",
    "origin": "Cette page n'est pas autorisée à utiliser l'assistant.",
    "unavailable": "L'assistant redémarre. Réessayez dans quelques secondes.",
    "not_found": "Cette page n'existe pas.",
    "internal": "Un problème est survenu de notre côté. Réessayez dans un instant.",
    "empty": "Votre message est vide.",
}
TEXT_LIMIT = 2000

# --- the operator's log -----------------------------------------------------------------------
NO_ALLOWED_ORIGINS = (
    "WEB_PORT est réglé mais WEB_ALLOWED_ORIGINS est vide : aucune page de l'ENT ne pourra "
    "afficher le panneau de l'assistant (seule la version sans JavaScript marchera)."
)

# --- production until step 2 ------------------------------------------------------------------
CLOSED = (
    "L'assistant en ligne n'est pas encore ouvert. En attendant, votre établissement peut vous "
    "aider à activer votre compte."
)
STALE_CHOICE = "Ce choix n'est plus d'actualité : voici où nous en sommes."

# --- the demo engine (sandbox and tests only) -------------------------------------------------
DEMO_WELCOME = (
    "Bonjour ! Je suis l'assistant de démonstration : rien de ce que vous tapez ici ne modifie "
    "un vrai compte."
)
DEMO_ASK_IDENTIFIER = "Quel est votre identifiant ENT ? (par exemple : jdupont)"
DEMO_ASK_PASSWORD = (
    "Merci ! Choisissez maintenant un nouveau mot de passe (8 caractères au moins). "
    "Il ne sera pas affiché."
)
DEMO_TOO_SHORT = "Ce mot de passe est trop court : 8 caractères au moins, s'il vous plaît."
DEMO_ASK_CONFIRM = "Mot de passe reçu. Voulez-vous activer votre compte ?"
DEMO_DONE = "C'est fait ! Votre compte est activé (démonstration)."
DEMO_NOT_NOW = "Je n'attends pas de texte à cette étape : utilisez les boutons, s'il vous plaît."
DEMO_HELP = (
    "Pas de souci, on va y arriver ensemble. Un membre de l'équipe peut aussi vous aider. "
    "Quand vous êtes prêt, touchez « Reprendre »."
)
DEMO_HELP_BUTTON = "🆘 Je bloque"
DEMO_RESUME_BUTTON = "Reprendre"
DEMO_CONFIRM_BUTTON = "Oui, activer"
DEMO_RESTART_BUTTON = "Recommencer"
