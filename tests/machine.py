"""What a test needs from the machine (root, a mount, the real samples in ../shared): skip where it is missing,
fail under CI (the environment variable ``CI`` set), which must run every test.

Import into a test module or conftest: ``from machine import unavailable``. PostgreSQL and Chromium have
switches of their own (``STACKFOLD_REQUIRE_POSTGRES``, ``STACKFOLD_REQUIRE_BROWSER``, set by ``.ci/run``).
"""

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """Skip the test, saying why; under CI fail it instead, so a missing requirement is never a silent pass."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}, but CI is set: CI runs every test")
    pytest.skip(message)


def needs_root(what: str) -> None:
    """Go on only as root (``what`` needs it: a mount, a tmpfs)."""
    if os.geteuid() != 0:
        unavailable(f"{what} needs root")
