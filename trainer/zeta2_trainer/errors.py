"""Errors a user can fix: the CLI prints them as one line and exits 2 instead of a traceback."""


class UserError(Exception):
    """Bad input, a missing file or model, a bad option: the message says exactly what and where."""


USER_ERRORS: tuple[type[BaseException], ...] = (UserError,)
