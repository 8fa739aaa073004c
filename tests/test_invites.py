"""Invite codes (domain/invites.py): random enough, stored only as a hash, strictly shaped."""

from __future__ import annotations

import base64
import hashlib
import re
import string
from datetime import timedelta

import pytest

from domain.invites import (
    CODE_BYTES,
    hash_invite_code,
    invite_link,
    looks_like_invite_code,
    new_invite_code,
    parse_expiry,
)

URL_SAFE = set(string.ascii_letters + string.digits + "-_")
DRAWS = 2000


def test_invite_code_is_22_url_safe_characters() -> None:
    for _ in range(200):
        code = new_invite_code()
        assert len(code) == 22
        assert set(code) <= URL_SAFE, code
        assert looks_like_invite_code(code)


def test_invite_code_carries_at_least_128_random_bits() -> None:
    assert CODE_BYTES >= 16
    code = new_invite_code()
    raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    assert len(raw) >= 16
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == code


def test_invite_codes_do_not_repeat() -> None:
    codes = {new_invite_code() for _ in range(DRAWS)}
    assert len(codes) == DRAWS


def test_invite_codes_use_the_whole_alphabet() -> None:
    # A weak generator (hex, digits only, a fixed prefix) would leave most symbols unused.
    codes = [new_invite_code() for _ in range(DRAWS)]
    assert len(set("".join(codes))) == 64
    assert len({code[:4] for code in codes}) > DRAWS * 0.9


def test_hash_is_sha256_hex_of_the_code_and_never_the_code() -> None:
    code = new_invite_code()
    digest = hash_invite_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(code.encode("ascii")).hexdigest()
    assert code not in digest
    assert hash_invite_code(code) == digest  # stable: the stored hash finds the invite


def test_different_codes_have_different_hashes() -> None:
    codes = [new_invite_code() for _ in range(200)]
    assert len({hash_invite_code(code) for code in codes}) == len(codes)


def test_known_hash_value() -> None:
    assert hash_invite_code("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A" * 21,
        "A" * 23,
        "A" * 44,
        "AAAAAAAAAAAAAAAAAAAAA+",  # standard base64, not URL-safe
        "AAAAAAAAAAAAAAAAAAAAA/",
        "AAAAAAAAAAAAAAAAAAAA==",
        "AAAAAAAAAAA AAAAAAAAAA",
        " AAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAA.",
        "ÀAAAAAAAAAAAAAAAAAAAAA",  # a letter, but not ASCII
        "AAAAAAAAAAAAAAAAAAAAA١",  # an Arabic-Indic digit
        "start=AAAAAAAAAAAAAAAA",
    ],
)
def test_malformed_codes_are_not_taken_for_invites(text: str) -> None:
    assert not looks_like_invite_code(text)


def test_code_with_a_trailing_newline_is_not_taken_for_an_invite() -> None:
    assert not looks_like_invite_code("A" * 22 + "\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("1m", timedelta(minutes=1)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("9999w", timedelta(weeks=9999)),
        (" 7D ", timedelta(days=7)),
        ("48H", timedelta(hours=48)),
    ],
)
def test_parse_expiry_reads_minutes_hours_days_and_weeks(text: str, expected: timedelta) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "7", "d", "0d", "0000h", "-1d", "1.5d", "7 d", "7days", "7y", "10000d", "7d7h", "d7"],
)
def test_parse_expiry_refuses_other_forms_and_names_the_accepted_ones(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 12h, 7d or 2w") as caught:
        parse_expiry(text)
    assert repr(text) in str(caught.value)


def test_invite_link_opens_the_bot_with_the_code_as_start_parameter() -> None:
    code = new_invite_code()
    assert invite_link("to_bao_ve_bot", code) == f"https://t.me/to_bao_ve_bot?start={code}"
