"""Tests for hub.identity: address normalisation for every identity kind."""

from __future__ import annotations

import pytest

from hub.errors import InvalidAddress
from hub.identity import (
    display_address,
    normalise_address,
    normalise_email,
    normalise_jid,
    normalise_phone,
    normalise_visitor,
)
from hub.model import IdentityKind

EMAIL_VALID = [
    pytest.param("Alice@EXAMPLE.com", "alice@example.com", id="mixed-case"),
    pytest.param("alice@bücher.de", "alice@xn--bcher-kva.de", id="idn-unicode"),
    pytest.param("alice@xn--bcher-kva.de", "alice@xn--bcher-kva.de", id="idn-punycode"),
    pytest.param("ADMIN@BÜCHER.DE", "admin@xn--bcher-kva.de", id="idn-uppercase"),
    pytest.param("alice+newsletter@example.com", "alice+newsletter@example.com", id="plus-tag"),
    pytest.param("  bob.smith@mail.example.co.uk \n", "bob.smith@mail.example.co.uk", id="ws"),
    pytest.param(
        "user_name-1@sub.domain.example.net", "user_name-1@sub.domain.example.net", id="sub"
    ),
    pytest.param("o'connor@example.ie", "o'connor@example.ie", id="apostrophe"),
    pytest.param("user%tag@example.com", "user%tag@example.com", id="percent"),
    pytest.param("x@example.test", "x@example.test", id="test-tld"),
    pytest.param("help@jabber.example", "help@jabber.example", id="example-tld"),
    pytest.param("a@b.co", "a@b.co", id="shortest"),
    pytest.param("mailto:support@example.org", "support@example.org", id="mailto"),
    pytest.param("MAILTO:Sales@Example.ORG", "sales@example.org", id="mailto-upper"),
    pytest.param("mailto:alice%2Bx@example.com?subject=Hi", "alice+x@example.com", id="mailto-q"),
    pytest.param("Alice Smith <Alice@Example.com>", "alice@example.com", id="display-name"),
    pytest.param('"Smith, John" <john.smith@example.com>', "john.smith@example.com", id="quoted"),
    pytest.param("<bob@example.com>", "bob@example.com", id="angle-only"),
    pytest.param("jürgen@example.de", "jürgen@example.de", id="utf8-local"),
    pytest.param("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", id="cjk"),
    pytest.param("alice@例え.テスト", "alice@xn--r8jz45g.xn--zckzah", id="japanese-domain"),
]

EMAIL_INVALID = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("alice", id="no-at"),
    pytest.param("alice.example.com", id="no-at-dotted"),
    pytest.param("alice@@example.com", id="double-at"),
    pytest.param("a@b@example.com", id="two-ats"),
    pytest.param("@example.com", id="empty-local"),
    pytest.param("alice@", id="empty-domain"),
    pytest.param("alice @example.com", id="space-local"),
    pytest.param("alice@exa mple.com", id="space-domain"),
    pytest.param(".alice@example.com", id="leading-dot"),
    pytest.param("alice.@example.com", id="trailing-dot-local"),
    pytest.param("al..ice@example.com", id="double-dot-local"),
    pytest.param("alice@.example.com", id="leading-dot-domain"),
    pytest.param("alice@example..com", id="double-dot-domain"),
    pytest.param("alice@example.com.", id="trailing-dot-domain"),
    pytest.param("alice@localhost", id="dotless-domain"),
    pytest.param("alice@[192.0.2.1]", id="ip-literal"),
    pytest.param("alice@192.0.2.1", id="bare-ip"),
    pytest.param('"alice"@example.com', id="quoted-local"),
    pytest.param("alice@-example.com", id="hyphen-label"),
    pytest.param("alice@exam_ple.com", id="underscore-domain"),
    pytest.param("alice@xn--zz.com", id="bad-punycode"),
    pytest.param("a" * 65 + "@example.com", id="local-too-long"),
    pytest.param("a" * 64 + "@" + ("b" * 62 + ".") * 3 + "c", id="address-too-long"),
    pytest.param("a@" + "b" * 64 + ".com", id="label-too-long"),
    pytest.param("x" * 100_000 + "@example.com", id="huge"),
    pytest.param("alice\x00@example.com", id="nul"),
    pytest.param("alice@example.com\x07", id="bell"),
    pytest.param("alice@example.c\u200bom", id="zero-width-space"),
    pytest.param("Alice <alice@example.com", id="unclosed-angle"),
    pytest.param("A <a@b.com>, B <c@d.com>", id="two-addresses"),
    pytest.param("<>", id="empty-angle"),
    pytest.param("alice(comment)@example.com", id="comment"),
    pytest.param("alice,bob@example.com", id="comma"),
    pytest.param("☃@example.com", id="symbol-local"),
    pytest.param("mailto:", id="mailto-only"),
]

PHONE_VALID = [
    pytest.param("+1 (415) 555-0100", "US", "+14155550100", id="us-formatted"),
    pytest.param("00441632960961", "GB", "+441632960961", id="gb-idd-00"),
    pytest.param("(415) 555-0100", "US", "+14155550100", id="us-national"),
    pytest.param("415.555.0100", "US", "+14155550100", id="us-dots"),
    pytest.param("+1-800-555-0199", "US", "+18005550199", id="us-tollfree"),
    pytest.param("011 44 20 7946 0018", "US", "+442079460018", id="us-idd-011"),
    pytest.param("020 7946 0018", "GB", "+442079460018", id="gb-london"),
    pytest.param("07700 900123", "GB", "+447700900123", id="gb-mobile"),
    pytest.param("030 901820", "DE", "+4930901820", id="de-national"),
    pytest.param("0049 30 901820", "GB", "+4930901820", id="de-from-gb"),
    pytest.param("01 23 45 67 89", "FR", "+33123456789", id="fr-national"),
    pytest.param("+33 1 23 45 67 89", "US", "+33123456789", id="fr-intl"),
    pytest.param("(11) 98765-4321", "BR", "+5511987654321", id="br-national"),
    pytest.param("+61 2 5550 1234", "US", "+61255501234", id="au"),
    pytest.param("+81 3-1234-5678", "US", "+81312345678", id="jp"),
    pytest.param("+91 98765 43210", "US", "+919876543210", id="in"),
    pytest.param("whatsapp:+14155550100", "US", "+14155550100", id="whatsapp"),
    pytest.param("WhatsApp:+5511987654321", "US", "+5511987654321", id="whatsapp-case"),
    pytest.param("sms:+447700900123", "US", "+447700900123", id="sms"),
    pytest.param("tel:+1-201-555-0123", "US", "+12015550123", id="tel-uri"),
    pytest.param("１-４１５-５５５-０１００", "US", "+14155550100", id="fullwidth"),
    pytest.param("+14155550100", "gb", "+14155550100", id="lowercase-region"),
]

PHONE_INVALID = [
    pytest.param("", "US", id="empty"),
    pytest.param("   ", "US", id="blank"),
    pytest.param("hello", "US", id="letters"),
    pytest.param("+1 800 FLOWERS", "US", id="vanity"),
    pytest.param("415 555 0100 x12", "US", id="extension"),
    pytest.param("tel:+1-201-555-0123;ext=1", "US", id="tel-ext"),
    pytest.param("12", "US", id="too-short"),
    pytest.param("+44 12", "US", id="gb-too-short"),
    pytest.param("+1 415 555 01000", "US", id="us-too-long"),
    pytest.param("+1 415 555 0100 1234567", "US", id="way-too-long"),
    pytest.param("1" * 300, "US", id="huge"),
    pytest.param("+999 1234567", "US", id="bad-country-code"),
    pytest.param("5550100", "US", id="local-only"),
    pytest.param("+", "US", id="plus-only"),
    pytest.param("0044", "GB", id="idd-only"),
    pytest.param("whatsapp:", "US", id="prefix-only"),
    pytest.param("\x00+14155550100", "US", id="nul"),
    pytest.param("+14155550100", "XX", id="unknown-region"),
]

JID_VALID = [
    pytest.param("bob@jabber.example/Resource", "bob@jabber.example", id="resource"),
    pytest.param("Bob@Jabber.Example", "bob@jabber.example", id="mixed-case"),
    pytest.param("XMPP:Bob@EXAMPLE.COM", "bob@example.com", id="uri-upper"),
    pytest.param("xmpp:alice@example.org", "alice@example.org", id="uri"),
    pytest.param("xmpp:alice@example.org?message;body=hi", "alice@example.org", id="uri-query"),
    pytest.param("xmpp:jürgen@example.de/Gajim", "jürgen@example.de", id="uri-unicode"),
    pytest.param("juliet@example.com/balcony/window", "juliet@example.com", id="slash-resource"),
    pytest.param("romeo@example.net/a@b", "romeo@example.net", id="at-in-resource"),
    pytest.param("alice@münchen.example/phone", "alice@xn--mnchen-3ya.example", id="idn"),
    pytest.param("bob@xn--mnchen-3ya.example", "bob@xn--mnchen-3ya.example", id="punycode"),
    pytest.param("ÉLODIE@example.fr", "élodie@example.fr", id="unicode-upper"),
    pytest.param("Σίσυφος@example.gr", "σίσυφοσ@example.gr", id="greek-casefold"),
    pytest.param("user.name+tag@chat.example.net", "user.name+tag@chat.example.net", id="dots"),
    pytest.param("bob@jabber.example.", "bob@jabber.example", id="trailing-dot"),
    pytest.param("user@localhost", "user@localhost", id="dotless"),
    pytest.param("x@192.0.2.1", "x@192.0.2.1", id="ipv4"),
]

JID_INVALID = [
    pytest.param("", id="empty"),
    pytest.param("jabber.example", id="domain-only"),
    pytest.param("jabber.example/Resource", id="domain-resource"),
    pytest.param("@jabber.example", id="empty-local"),
    pytest.param("bob@", id="empty-domain"),
    pytest.param("bob@/res", id="empty-domain-resource"),
    pytest.param("bob@jabber.example/", id="empty-resource"),
    pytest.param("a@b@x.org", id="two-ats"),
    pytest.param("bo b@jabber.example", id="space"),
    pytest.param("bob\u00a0x@x.org", id="nbsp"),
    pytest.param('bob"@x.org', id="quote"),
    pytest.param("bob&co@x.org", id="ampersand"),
    pytest.param("o'brien@x.org", id="apostrophe"),
    pytest.param("bob:x@x.org", id="colon"),
    pytest.param("<bob>@x.org", id="angle"),
    pytest.param("☃@x.org", id="symbol"),
    pytest.param("bob@jab ber.example", id="space-domain"),
    pytest.param("bob@-bad.example", id="hyphen-domain"),
    pytest.param("bob@bad_host.org", id="underscore-domain"),
    pytest.param("bob@[::1]", id="ipv6-literal"),
    pytest.param("a" * 1024 + "@x.org", id="local-too-long"),
    pytest.param("bob@x.org/" + "r" * 1024, id="resource-too-long"),
    pytest.param("x" * 100_000, id="huge"),
    pytest.param("xmpp://bob@x.org", id="uri-authority"),
    pytest.param("xmpp:%00@x.org", id="uri-escaped-nul"),
    pytest.param("bob\x00@x.org", id="nul"),
]

VISITOR_VALID = [
    pytest.param("abcd1234", "abcd1234", id="min-length"),
    pytest.param("V1StGXR8_Z5jdHi6B-myT", "V1StGXR8_Z5jdHi6B-myT", id="nanoid"),
    pytest.param(" tok_en-123 ", "tok_en-123", id="stripped"),
    pytest.param("a" * 128, "a" * 128, id="max-length"),
]

VISITOR_INVALID = [
    pytest.param("", id="empty"),
    pytest.param("short", id="too-short"),
    pytest.param("a" * 129, id="too-long"),
    pytest.param("has space here", id="space"),
    pytest.param("tok.en123", id="dot"),
    pytest.param("tökén1234", id="unicode"),
    pytest.param("abc/defgh", id="slash"),
    pytest.param("abcdefgh\x00", id="nul"),
]


def _assert_invalid(exc: InvalidAddress, kind: IdentityKind) -> None:
    assert exc.kind == kind.value
    assert isinstance(exc.reason, str) and exc.reason.strip()


@pytest.mark.parametrize(("raw", "expected"), EMAIL_VALID)
def test_email_valid(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected
    assert normalise_address(IdentityKind.EMAIL, raw) == expected
    assert normalise_email(expected) == expected  # idempotent


@pytest.mark.parametrize("raw", EMAIL_INVALID)
def test_email_invalid(raw: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_email(raw)
    _assert_invalid(info.value, IdentityKind.EMAIL)


def test_email_idn_forms_are_equal() -> None:
    assert normalise_email("alice@bücher.de") == normalise_email("alice@xn--bcher-kva.de")


def test_email_reasons_are_specific() -> None:
    with pytest.raises(InvalidAddress, match="missing @"):
        normalise_email("alice.example.com")
    with pytest.raises(InvalidAddress, match="not a valid hostname"):
        normalise_email("alice@-example.com")


@pytest.mark.parametrize(("raw", "region", "expected"), PHONE_VALID)
def test_phone_valid(raw: str, region: str, expected: str) -> None:
    assert normalise_phone(raw, region) == expected
    assert normalise_address("phone", raw, default_region=region) == expected
    assert normalise_phone(expected, region) == expected  # idempotent
    assert normalise_phone(expected, "US") == expected  # E.164 ignores the region


@pytest.mark.parametrize(("raw", "region"), PHONE_INVALID)
def test_phone_invalid(raw: str, region: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_phone(raw, region)
    _assert_invalid(info.value, IdentityKind.PHONE)


def test_phone_reason_names_region() -> None:
    with pytest.raises(InvalidAddress, match="not a possible phone number for region GB"):
        normalise_phone("+44 12")


@pytest.mark.parametrize(("raw", "expected"), JID_VALID)
def test_jid_valid(raw: str, expected: str) -> None:
    assert normalise_jid(raw) == expected
    assert normalise_address(IdentityKind.XMPP, raw) == expected
    assert normalise_jid(expected) == expected  # idempotent


@pytest.mark.parametrize("raw", JID_INVALID)
def test_jid_invalid(raw: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_jid(raw)
    _assert_invalid(info.value, IdentityKind.XMPP)


def test_jid_domain_only_is_a_server() -> None:
    with pytest.raises(InvalidAddress, match="server"):
        normalise_jid("jabber.example")


@pytest.mark.parametrize(("raw", "expected"), VISITOR_VALID)
def test_visitor_valid(raw: str, expected: str) -> None:
    assert normalise_visitor(raw) == expected
    assert normalise_address("visitor", raw) == expected
    assert normalise_visitor(expected) == expected  # idempotent


@pytest.mark.parametrize("raw", VISITOR_INVALID)
def test_visitor_invalid(raw: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_visitor(raw)
    _assert_invalid(info.value, IdentityKind.VISITOR)


def test_visitor_is_case_sensitive() -> None:
    assert normalise_visitor("AbCdEfGh12") != normalise_visitor("abcdefgh12")


@pytest.mark.parametrize("kind", ["fax", "", "EMAIL", "sms", "whatsapp"])
def test_unknown_kind(kind: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_address(kind, "alice@example.com")
    assert info.value.kind == kind
    assert info.value.reason


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (kind, raw)
        for kind in IdentityKind
        for raw in ("", " ", "\x00", "\ud800", "@/:", "é" * 5000)
    ],
)
def test_garbage_raises_only_invalid_address(kind: IdentityKind, raw: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        normalise_address(kind, raw)
    _assert_invalid(info.value, kind)


@pytest.mark.parametrize(
    ("kind", "address", "expected"),
    [
        pytest.param("email", "alice@xn--bcher-kva.de", "alice@bücher.de", id="email-idn"),
        pytest.param("email", "alice@example.com", "alice@example.com", id="email-ascii"),
        pytest.param(IdentityKind.PHONE, "+14155550100", "+14155550100", id="phone"),
        pytest.param("xmpp", "bob@xn--mnchen-3ya.example", "bob@xn--mnchen-3ya.example", id="xmpp"),
        pytest.param("visitor", "abcd1234", "abcd1234", id="visitor"),
    ],
)
def test_display_address(kind: str, address: str, expected: str) -> None:
    assert display_address(kind, address) == expected
