"""Agent passwords: argon2id hashes (argon2-cffi's recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import InvalidInput

_HASHER = PasswordHasher()  # stateless and thread-safe; parameters are argon2id defaults
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """An argon2id hash; rejects passwords shorter than MIN_LENGTH."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_LENGTH} characters", field="password")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
