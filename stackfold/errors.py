"""One exception root for the package.

Every error a user can cause (bad files, bad config, bad submission) derives from
:class:`StackfoldError` and from the matching builtin, so callers may catch either.
The CLI prints these as one line and exits non-zero; anything else is a bug.
"""


class StackfoldError(Exception):
    """Root of every error stackfold raises on purpose.

    ``where`` names the place at fault (a config table such as ``[features.vgg16]``) apart from
    the message, so a caller that knows the place adds it with :meth:`at` instead of reading text.
    """

    def __init__(self, message: str, *, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where} {self.message}" if self.where else self.message

    def at(self, where: str) -> "StackfoldError":
        """This error located at ``where``, unless it already names its place."""
        return self if self.where else type(self)(self.message, where=where)


class DataError(StackfoldError, ValueError):
    """A challenge file is missing, malformed or inconsistent."""


class ConfigError(StackfoldError, ValueError):
    """The run configuration asks for something invalid."""


class SubmissionError(StackfoldError, ValueError):
    """A submission file does not match the challenge format or the test set."""


class RunFolderError(StackfoldError, FileNotFoundError):
    """A run folder lacks the artifacts a command needs."""


class RunFolderLockedError(StackfoldError, BlockingIOError):
    """Another process writes to the run folder."""


class RunFolderMismatchError(StackfoldError, ValueError):
    """The run folder holds another run (other data, folds or seed), or is not a folder."""


class ClusterError(StackfoldError, ConnectionError):
    """The Dask cluster cannot be reached, lost its scheduler, or its workers cannot see the files they need."""
