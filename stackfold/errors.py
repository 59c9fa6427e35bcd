"""One exception root for the package.

Every error a user can cause (bad files, bad config, bad submission) derives from
:class:`StackfoldError` and from the matching builtin, so callers may catch either.
The CLI prints these as one line and exits non-zero; anything else is a bug.
"""


class StackfoldError(Exception):
    """Root of every error stackfold raises on purpose."""


class DataError(StackfoldError, ValueError):
    """A challenge file is missing, malformed or inconsistent."""


class ConfigError(StackfoldError, ValueError):
    """The run configuration asks for something invalid."""


class SubmissionError(StackfoldError, ValueError):
    """A submission file does not match the challenge format or the test set."""


class RunFolderError(StackfoldError, FileNotFoundError):
    """A run folder lacks the artifacts a command needs."""
