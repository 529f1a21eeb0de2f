"""Encryption at rest of secret inbox settings: AES-256-GCM under a key derived from the hub secret.

The stored form is `enc:v1:<base64url(nonce || ciphertext+tag)>`. The version prefix lets a
later release change the scheme and still recognise (and upgrade) what v1 wrote. The inbox id
and the setting's name are bound as associated data, so a ciphertext copied to another inbox
or another setting does not decrypt.

    cipher = SettingsCipher(hub_secret)
    stored = cipher.seal("s3cret", inbox_id="inb_1", name="identity_secret")
    cipher.open(stored, inbox_id="inb_1", name="identity_secret")  # "s3cret"
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.errors import HubError

PREFIX = "enc:v1:"
# the HKDF label: a key derived for inbox settings is useless for anything else the hub signs
HKDF_INFO = b"contact-hub/inbox-settings/aes-256-gcm/v1"
NONCE_BYTES = 12  # 96 bits, random per value: the GCM standard size


class SecretUnreadable(HubError):
    """A stored secret that does not decrypt: another hub secret, another inbox, or damaged."""

    code = "secret_unreadable"
    status = 500


def is_sealed(value: object) -> bool:
    """Whether a stored value is in the encrypted form (any version this module writes)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def _associated_data(inbox_id: str, name: str) -> bytes:
    return f"contact-hub inbox setting\0{inbox_id}\0{name}".encode()


class SettingsCipher:
    """Seals and opens secret setting values under one hub secret."""

    def __init__(self, hub_secret: bytes) -> None:
        if not hub_secret:
            raise ValueError("the hub secret must not be empty")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
            hub_secret
        )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SettingsCipher(<key hidden>)"

    def seal(self, value: str, *, inbox_id: str, name: str) -> str:
        """The stored form of `value` for this inbox's setting `name`."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), _associated_data(inbox_id, name))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, stored: str, *, inbox_id: str, name: str) -> str:
        """The value; SecretUnreadable if it was not sealed by this key for this inbox and name."""
        where = f"inbox {inbox_id!r} setting {name!r}"
        if not is_sealed(stored):
            raise SecretUnreadable(f"{where} is not in the encrypted form")
        text = stored[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise SecretUnreadable(f"{where} is damaged (not base64)") from None
        if len(raw) <= NONCE_BYTES:
            raise SecretUnreadable(f"{where} is damaged (too short)")
        try:
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(inbox_id, name)
            )
        except InvalidTag:
            raise SecretUnreadable(
                f"{where} does not decrypt: another hub secret, inbox or setting sealed it"
            ) from None
        return plain.decode()
