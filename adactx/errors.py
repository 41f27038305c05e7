"""User-facing errors: one line that names the problem. The CLI prints them without a traceback."""


class AdactxError(Exception):
    """An error caused by the user's input or environment (bad file, unknown name, missing data)."""
