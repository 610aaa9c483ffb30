"""Errors the user can act on.

Raise :class:`UserError` for bad input (a file, a setting, a value) with a message that names
it and says what to do. The CLI prints it as one line and exits non-zero; Blender operators
report it in the UI. Anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input or a bad setting; the message names the file/setting and the fix."""


class Cancelled(Exception):
    """The user cancelled long work; partial outputs have been removed."""
