"""Content hashes that decide whether cached work can be reused."""

import hashlib
import json
from typing import Any


def content_key(*parts: Any) -> str:
    """Stable 16-hex-digit hash of JSON-serialisable parts (dict keys sorted)."""
    payload = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
