"""Normalise customer addresses (email, phone, XMPP JID, web visitor id) to one canonical form."""

from __future__ import annotations

import functools
import re
import unicodedata
from email.utils import parseaddr
from urllib.parse import unquote

import idna
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from hub.errors import InvalidAddress
from hub.model import IdentityKind

_EMAIL, _PHONE, _XMPP, _VISITOR = "email", "phone", "xmpp", "visitor"  # IdentityKind values

_RAW_KEEP = 512  # longest raw value echoed back in an error (keeps logs and bodies small)
_EMAIL_MAX, _LOCAL_MAX = 254, 64  # RFC 5321 path and local-part limits, in octets
_JID_PART_MAX = 1023  # RFC 7622: each of localpart, domainpart, resourcepart
_ATEXT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~")
_JID_FORBIDDEN = frozenset("\"&'/:<>@")
_LETTER_DIGITS = frozenset({"Ll", "Lu", "Lo", "Lm", "Nd", "Mn", "Mc"})
_VISITOR_RE = re.compile(r"[A-Za-z0-9_-]{8,128}")
_PHONE_PREFIXES = ("whatsapp:", "sms:", "tel:")
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown or missing country calling code",
    NumberParseException.NOT_A_NUMBER: "does not look like a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
}


def _fail(kind: str, raw: str, reason: str) -> InvalidAddress:
    """Build an InvalidAddress, truncating a huge raw value."""
    shown = raw if len(raw) <= _RAW_KEEP else raw[:_RAW_KEEP] + "…"
    return InvalidAddress(kind, shown, reason)


def _is_control(ch: str) -> bool:
    """True for control, format, surrogate and unassigned code points."""
    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def _is_letter_digit(ch: str) -> bool:
    """True for non-ASCII letters, digits and marks (PRECIS LetterDigits)."""
    return ord(ch) > 127 and unicodedata.category(ch) in _LETTER_DIGITS


def _prepare(kind: str, raw: str, limit: int) -> str:
    """Check type, strip whitespace, reject empty, over-long and control-character input."""
    if not isinstance(raw, str):
        raise _fail(kind, repr(raw), "not a string")
    text = raw.strip()
    if not text:
        raise _fail(kind, raw, "empty address")
    if len(text) > limit:
        raise _fail(kind, raw, f"longer than {limit} characters")
    if any(_is_control(ch) for ch in text):
        raise _fail(kind, raw, "contains control characters")
    return text


def _strip_prefix(text: str, prefixes: tuple[str, ...]) -> tuple[str, str]:
    """Remove the first matching case-insensitive URI scheme prefix; return (prefix, rest)."""
    for prefix in prefixes:
        if text[: len(prefix)].lower() == prefix:
            return prefix, text[len(prefix) :].strip()
    return "", text


def _idna_domain(kind: str, raw: str, domain: str) -> str:
    """Convert a domain to lowercase IDNA ASCII (punycode), or raise with a reason."""
    try:
        return idna.encode(domain, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise _fail(kind, raw, f"domain is not a valid hostname ({exc})") from None


def _email_local(raw: str, local: str) -> str:
    """Validate and lowercase an unquoted (dot-atom) local part."""
    if not local:
        raise _fail(_EMAIL, raw, "empty local part before @")
    if local.startswith('"'):
        raise _fail(_EMAIL, raw, "quoted local parts are not supported")
    # Every major provider treats local parts case-insensitively, and customers type them in
    # any case; keying identities on the exact case would split one person into several.
    local = unicodedata.normalize("NFC", local.lower())
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _fail(_EMAIL, raw, "local part has a leading, trailing or double dot")
    for ch in local:
        if ch != "." and ch not in _ATEXT and not _is_letter_digit(ch):
            raise _fail(_EMAIL, raw, f"character {ch!r} not allowed in the local part")
    if len(local.encode()) > _LOCAL_MAX:
        raise _fail(_EMAIL, raw, f"local part longer than {_LOCAL_MAX} octets")
    return local


def _email_domain(raw: str, domain: str) -> str:
    """Validate a mail domain and return its IDNA ASCII form."""
    if not domain:
        raise _fail(_EMAIL, raw, "empty domain after @")
    if domain.startswith("["):
        raise _fail(_EMAIL, raw, "IP address literals are not supported")
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        raise _fail(_EMAIL, raw, "domain has a leading, trailing or double dot")
    ascii_domain = _idna_domain(_EMAIL, raw, domain)
    if "." not in ascii_domain:
        raise _fail(_EMAIL, raw, "domain has no dot (a bare host is not a mail domain)")
    if ascii_domain.rsplit(".", 1)[1].isdigit():
        raise _fail(_EMAIL, raw, "top-level domain is numeric (IP addresses are not supported)")
    return ascii_domain


def normalise_email(raw: str) -> str:
    """Normalise an email address to lowercase `local@ascii-domain`."""
    text = _prepare(_EMAIL, raw, 1024)
    if "<" in text or ">" in text:
        ok = text.count("<") == text.count(">") == 1 and text.endswith(">")
        text = parseaddr(text)[1] if ok else ""  # "Name <addr>": keep only the addr-spec
        if not text:
            raise _fail(_EMAIL, raw, "malformed 'Name <address>' form")
    prefix, text = _strip_prefix(text, ("mailto:",))
    if prefix:
        text = unquote(text.split("?", 1)[0])  # drop ?subject=... and %-escapes
    if any(ch.isspace() for ch in text):
        raise _fail(_EMAIL, raw, "contains whitespace")
    count = text.count("@")
    if count != 1:
        raise _fail(_EMAIL, raw, "missing @" if count == 0 else "more than one @")
    local, domain = text.split("@")
    address = f"{_email_local(raw, local)}@{_email_domain(raw, domain)}"
    if len(address.encode()) > _EMAIL_MAX:
        raise _fail(_EMAIL, raw, f"address longer than {_EMAIL_MAX} octets")
    return address


def _region(raw: str, default_region: str) -> str:
    """Validate a default region code (ISO 3166 alpha-2)."""
    region = default_region.strip().upper() if isinstance(default_region, str) else ""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise _fail(_PHONE, raw, f"unknown default region {default_region!r}")
    return region


def _parse_phone(raw: str, text: str, region: str) -> phonenumbers.PhoneNumber:
    """Parse digits with phonenumbers, turning parse errors into InvalidAddress."""
    if any(ch.isalpha() for ch in text):
        raise _fail(_PHONE, raw, "contains letters (vanity numbers and extensions not accepted)")
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise _fail(_PHONE, raw, _PARSE_REASONS.get(exc.error_type, str(exc))) from None


def normalise_phone(raw: str, default_region: str = "US") -> str:
    """Normalise a phone number (optionally `whatsapp:`/`sms:`/`tel:` prefixed) to E.164."""
    text = _prepare(_PHONE, raw, 250)
    region = _region(raw, default_region)
    prefix, text = _strip_prefix(text, _PHONE_PREFIXES)
    if prefix == "tel:" and ";" in text:
        raise _fail(_PHONE, raw, "tel: URI parameters (extensions, phone-context) not supported")
    number = _parse_phone(raw, text, region)
    result = phonenumbers.is_possible_number_with_reason(number)
    if result == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise _fail(_PHONE, raw, "a local-only number; include the area code")
    if result != ValidationResult.IS_POSSIBLE:
        where = phonenumbers.region_code_for_country_code(number.country_code or 0)
        detail = _POSSIBLE_REASONS.get(result, "impossible")
        raise _fail(_PHONE, raw, f"not a possible phone number for region {where} ({detail})")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _jid_local(raw: str, local: str) -> str:
    """Validate and case-fold a JID localpart (RFC 7622 UsernameCaseMapped, simplified)."""
    if not local:
        raise _fail(_XMPP, raw, "empty localpart before @")
    local = unicodedata.normalize("NFC", local.casefold())
    for ch in local:
        if ch in _JID_FORBIDDEN or not (33 <= ord(ch) < 127 or _is_letter_digit(ch)):
            raise _fail(_XMPP, raw, f"character {ch!r} not allowed in the localpart")
    if len(local.encode()) > _JID_PART_MAX:
        raise _fail(_XMPP, raw, f"localpart longer than {_JID_PART_MAX} bytes")
    return local


def _jid_domain(raw: str, domain: str) -> str:
    """Validate a JID domainpart and return its IDNA ASCII form."""
    if domain.endswith("."):
        domain = domain[:-1]  # RFC 7622 3.2: a trailing dot is stripped
    if not domain:
        raise _fail(_XMPP, raw, "empty domainpart after @")
    if domain.startswith("["):
        raise _fail(_XMPP, raw, "IP address literals are not supported")
    ascii_domain = _idna_domain(_XMPP, raw, domain)
    if len(ascii_domain) > _JID_PART_MAX:
        raise _fail(_XMPP, raw, f"domainpart longer than {_JID_PART_MAX} bytes")
    return ascii_domain


def normalise_jid(raw: str) -> str:
    """Normalise an XMPP address (optionally `xmpp:` URI) to a lowercase bare JID."""
    text = _prepare(_XMPP, raw, 3 * _JID_PART_MAX + 2)
    prefix, text = _strip_prefix(text, ("xmpp:",))
    if prefix:
        if text.startswith("//"):
            raise _fail(_XMPP, raw, "xmpp: URIs with an authority are not supported")
        text = unquote(text.split("?", 1)[0])  # later checks reject any %-escaped junk
    bare, slash, resource = text.partition("/")
    if slash and not resource:
        raise _fail(_XMPP, raw, "empty resource after /")
    if len(resource.encode()) > _JID_PART_MAX:
        raise _fail(_XMPP, raw, f"resourcepart longer than {_JID_PART_MAX} bytes")
    count = bare.count("@")
    if count == 0:
        raise _fail(_XMPP, raw, "no localpart: a domain-only JID is a server, not a user")
    if count > 1:
        raise _fail(_XMPP, raw, "more than one @ before the resource")
    local, domain = bare.split("@")
    return f"{_jid_local(raw, local)}@{_jid_domain(raw, domain)}"


def normalise_visitor(raw: str) -> str:
    """Validate a web-chat visitor token (8-128 of A-Z a-z 0-9 _ -); returned unchanged."""
    text = _prepare(_VISITOR, raw, 128)
    if len(text) < 8:
        raise _fail(_VISITOR, raw, "shorter than 8 characters")
    if not _VISITOR_RE.fullmatch(text):
        raise _fail(_VISITOR, raw, "only letters, digits, '_' and '-' are allowed")
    return text


@functools.lru_cache(maxsize=65_536)  # pure; the API prechecks and ingest both call it
def normalise_address(kind: IdentityKind | str, raw: str, *, default_region: str = "US") -> str:
    """Normalise `raw` according to its kind; raise InvalidAddress if it is not valid."""
    try:
        ident = IdentityKind(kind)
    except (ValueError, TypeError):
        raise _fail(str(kind), raw if isinstance(raw, str) else repr(raw), "unknown kind") from None
    if ident is IdentityKind.PHONE:
        return normalise_phone(raw, default_region)
    return _NORMALISERS[ident](raw)


_NORMALISERS = {
    IdentityKind.EMAIL: normalise_email,
    IdentityKind.XMPP: normalise_jid,
    IdentityKind.VISITOR: normalise_visitor,
}


def display_address(kind: IdentityKind | str, address: str) -> str:
    """Return a normalised address for display (email domains decoded back to Unicode)."""
    if kind != IdentityKind.EMAIL or "@" not in address:
        return address
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{idna.decode(domain)}"
    except (idna.IDNAError, UnicodeError):
        return address
