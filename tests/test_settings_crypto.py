"""Secret settings at rest: AES-GCM bound to one inbox and setting, under the hub secret."""

from __future__ import annotations

import pytest

from hub.settings_crypto import PREFIX, SecretUnreadable, SettingsCipher, is_sealed

KEY = b"hub-secret-for-crypto-tests-0123456789"


def test_a_sealed_value_opens_for_its_inbox_and_setting() -> None:
    cipher = SettingsCipher(KEY)
    stored = cipher.seal("s3cret-value", inbox_id="inb_1", name="identity_secret")
    assert stored.startswith(PREFIX) and is_sealed(stored)
    assert "s3cret-value" not in stored
    assert cipher.open(stored, inbox_id="inb_1", name="identity_secret") == "s3cret-value"


def test_a_ciphertext_moved_to_another_inbox_does_not_open() -> None:
    cipher = SettingsCipher(KEY)
    stored = cipher.seal("s3cret-value", inbox_id="inb_1", name="identity_secret")
    with pytest.raises(SecretUnreadable, match="does not decrypt"):
        cipher.open(stored, inbox_id="inb_2", name="identity_secret")


def test_a_ciphertext_moved_to_another_setting_does_not_open() -> None:
    cipher = SettingsCipher(KEY)
    stored = cipher.seal("s3cret-value", inbox_id="inb_1", name="identity_secret")
    with pytest.raises(SecretUnreadable):
        cipher.open(stored, inbox_id="inb_1", name="webhook_secret")


def test_another_hub_secret_cannot_open_it() -> None:
    stored = SettingsCipher(KEY).seal("s3cret-value", inbox_id="inb_1", name="identity_secret")
    with pytest.raises(SecretUnreadable):
        SettingsCipher(b"another-hub-secret").open(stored, inbox_id="inb_1", name="identity_secret")


def test_each_seal_draws_a_fresh_nonce() -> None:
    cipher = SettingsCipher(KEY)
    first, second = (cipher.seal("same", inbox_id="i", name="n") for _ in range(2))
    assert first != second


@pytest.mark.parametrize("damage", ["enc:v1:", "enc:v1:!!!", "plain-text", "enc:v1:AAAA"])
def test_a_damaged_or_plain_value_is_unreadable_not_a_crash(damage: str) -> None:
    with pytest.raises(SecretUnreadable):
        SettingsCipher(KEY).open(damage, inbox_id="i", name="n")


def test_a_flipped_bit_is_detected() -> None:
    cipher = SettingsCipher(KEY)
    stored = cipher.seal("s3cret-value", inbox_id="i", name="n")
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(SecretUnreadable):
        cipher.open(tampered, inbox_id="i", name="n")
