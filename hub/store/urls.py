"""Store URLs made safe to log: credentials never reach a log line or an error message."""

from __future__ import annotations

import re

# everything between the scheme's // and the last @ before the path: greedy, so a password
# with an unescaped @ in it is hidden whole (hiding a host too is the safe side to err on)
_CREDENTIALS = re.compile(r"//[^/]*@")


def redact_url(url: str) -> str:
    """A store URL safe to log: credentials replaced."""
    return _CREDENTIALS.sub("//***@", url)
