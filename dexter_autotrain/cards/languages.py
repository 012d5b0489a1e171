"""Names of the language codes (ISO 639-3) Dexter's jobs use, as cards show them."""

LANGUAGE_NAMES = {
    "eng": "English",
    "pcm": "Nigerian Pidgin",
    "hau": "Hausa",
    "yor": "Yorùbá",
    "ibo": "Igbo",
    "und": "undetermined",
}
