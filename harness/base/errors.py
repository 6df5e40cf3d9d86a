"""Errors the user can act on: printed as one line, exit code 2, never a traceback."""


class HarnessError(Exception):
    """Bad input or usage. The message names the file, line or field at fault."""

    exit_code = 2
