"""French replies as the common mail clients write them: (name, body, what the person wrote).
Shared by the quote-stripping tests and the measure of the libraries (README)."""

from __future__ import annotations

SAMPLES: list[tuple[str, str, str]] = [
    (
        "gmail",
        "Bonjour, je n'ai pas reçu l'e-mail.\n"
        "\n"
        "Le lun. 7 déc. 2026 à 10:00, ENT Lycée <activation@lycee.example> a écrit :\n"
        "\n"
        "> Bonjour Léa,\n"
        "> Votre code est dans ce message.\n",
        "Bonjour, je n'ai pas reçu l'e-mail.",
    ),
    (
        "gmail-wrapped",
        "Merci beaucoup, ça marche.\n"
        "\n"
        "Le lun. 7 déc. 2026 à 10:00, ENT - activation du Lycée de Test <\n"
        "activation@lycee.example> a écrit :\n"
        "\n"
        "> Bonjour Léa,\n",
        "Merci beaucoup, ça marche.",
    ),
    (
        "outlook",
        "Bonjour,\n"
        "Je n'arrive pas à me connecter.\n"
        "\n"
        "________________________________\n"
        "De : ENT Lycée <activation@lycee.example>\n"
        "Envoyé : lundi 7 décembre 2026 10:00\n"
        "À : Paul Durand <paul@example.org>\n"
        "Objet : Votre code\n"
        "\n"
        "Bonjour Paul,\n"
        "Votre code est dans ce message.\n",
        "Bonjour,\nJe n'arrive pas à me connecter.",
    ),
    (
        "outlook-original",
        "Je ne trouve pas le lien.\n"
        "\n"
        "-----Message d'origine-----\n"
        "De : ENT Lycée <activation@lycee.example>\n"
        "Envoyé : lundi 7 décembre 2026 10:00\n"
        "À : paul@example.org\n"
        "Objet : Votre code\n"
        "\n"
        "Bonjour Paul,\n",
        "Je ne trouve pas le lien.",
    ),
    (
        "thunderbird",
        "Le code ne fonctionne pas.\n"
        "\n"
        "Le 07/12/2026 à 10:00, ENT Lycée a écrit :\n"
        "> Bonjour Nora,\n"
        "> Votre code est dans ce message.\n",
        "Le code ne fonctionne pas.",
    ),
    (
        "apple-mail",
        "J'ai perdu mon identifiant.\n"
        "\n"
        "Envoyé de mon iPhone\n"
        "\n"
        "> Le 7 déc. 2026 à 10:00, ENT Lycée <activation@lycee.example> a écrit :\n"
        ">\n"
        "> Bonjour Léa,\n",
        "J'ai perdu mon identifiant.",
    ),
    (
        "signature",
        "Bonjour,\n"
        "Mon compte est bloqué.\n"
        "\n"
        "-- \n"
        "Paul Durand\n"
        "Maître d'apprentissage, Garage du Centre\n",
        "Bonjour,\nMon compte est bloqué.",
    ),
]
