"""Callback data (presentation/callbacks.py): round trips, refusals and Telegram's 64 bytes."""

from __future__ import annotations

from enum import StrEnum

import pytest

from domain import fields
from domain.catalogue import MAX_CODE_LENGTH, default_catalogues
from domain.day_range import Span
from domain.forms import FORMS
from domain.models import Role
from domain.review import KindFilter, PeriodFilter, StatusFilter
from domain.review import Verdict as ReviewVerdict
from domain.settings import SUPPORTED_LANGUAGES
from presentation.callbacks import (
    CALLBACK_DATA_LIMIT,
    REGISTRY,
    AcknowledgeAlert,
    AnswerField,
    AskDigest,
    BackToDraft,
    CallbackData,
    CallbackRegistry,
    ChooseLanguage,
    ConfirmDiscard,
    ContinueDraft,
    DeactivateAsk,
    DeactivateDo,
    DigestSpan,
    DiscardDraft,
    EditField,
    EditOwnReport,
    ExportAs,
    ExportRange,
    FileFormat,
    InviteMake,
    InviteRole,
    InviteUnit,
    KeepValue,
    LeaveDays,
    LeaveMember,
    ListFilter,
    MembersPage,
    NothingToday,
    OpenReport,
    ReplaceDraft,
    ReplaceWithNothing,
    ReportsFilter,
    ReportsPage,
    ResolveAlert,
    ReviewReport,
    SameIncident,
    StartReport,
    SubmitDraft,
    WatchReports,
    WithdrawOwnReport,
    WithdrawStep,
    unpack,
)

# Classes declared only for these tests live in their own registry, not the bot's.
TEST_REGISTRY = CallbackRegistry()


class Verdict(StrEnum):
    VERIFIED = "v"
    MORE_INFO = "m"
    REJECTED = "r"


class Colon(StrEnum):
    BAD = "a:b"


class Review(CallbackData, prefix="tv", registry=TEST_REGISTRY):
    report: int
    verdict: Verdict
    notify: bool


class Ping(CallbackData, prefix="tp", registry=TEST_REGISTRY):
    pass


class Note(CallbackData, prefix="tn", registry=TEST_REGISTRY):
    text: str


BIGGEST_ID = 10**18 - 1  # 18 digits, the most an int field takes

# Every button value the report flow can put in an AnswerField.
FLOW_VALUES = sorted(
    {item.code for items in default_catalogues().values() for item in items}
    | {option.value for form in FORMS.values() for f in form.fields for option in f.options}
    | {fields.SKIP, fields.NONE, fields.DONE, fields.CLEAR, fields.KEEP}
    | {fields.NOW, fields.TODAY, fields.YESTERDAY, fields.OTHER}
    | set(fields.DURATION_CHOICES)
    | set(fields.COUNT_CHOICES)
)
FIELD_KEYS = sorted({f.key for form in FORMS.values() for f in form.fields})

ROUND_TRIPS: list[tuple[CallbackData, str]] = [
    (AnswerField(12, "cat", "THEFT"), "ra:12:cat:THEFT"),
    (AnswerField(0, "photos", "_skip"), "ra:0:photos:_skip"),
    (AnswerField(BIGGEST_ID, "count", "10"), f"ra:{BIGGEST_ID}:count:10"),
    (AnswerField(7, "action", "follow_up"), "ra:7:action:follow_up"),
    (EditField(12, "desc"), "re:12:desc"),
    (KeepValue(12), "rk:12"),
    (SubmitDraft(12), "rs:12"),
    (DiscardDraft(12), "rx:12"),
    (ContinueDraft(12), "rc:12"),
    (ReplaceDraft(12, "activity"), "rn:12:activity"),
    (ReplaceWithNothing(12), "rnn:12"),
    (ConfirmDiscard(12), "rxc:12"),
    (BackToDraft(12), "rxb:12"),
    (ChooseLanguage("vi"), "lg:vi"),
    (ChooseLanguage("en"), "lg:en"),
    (StartReport("incident"), "sr:incident"),
    (NothingToday(), "nt"),
    (LeaveMember(7), "lm:7"),
    (LeaveDays(7, 14), "ld:7:14"),
    (AskDigest(DigestSpan.WEEK), "dg:week"),
    (ExportRange(Span.LAST_30_DAYS, FileFormat.CSV), "exr:days30:csv"),
    (ExportAs(FileFormat.XLSX), "exf:xlsx"),
    (InviteRole(Role.DEPUTY), "ivr:deputy"),
    (InviteUnit(Role.MEMBER, "top", 0), "ivu:member:top:0"),
    (InviteMake(Role.SUPERVISOR, "0a1b2c3d4e5f"), "ivk:supervisor:0a1b2c3d4e5f"),
    (MembersPage(2), "mbp:2"),
    (DeactivateAsk(41, 2), "mbd:41:2"),
    (DeactivateDo(41), "mbc:41"),
    (SameIncident(12, 0), "du:12:0"),
    (AcknowledgeAlert(12), "aa:12"),
    (ResolveAlert(12), "ar:12"),
    (
        ReportsPage(KindFilter.INCIDENT, StatusFilter.SUBMITTED, 3, PeriodFilter.WEEK, 2),
        "vl:incident:submitted:3:7d:2",
    ),
    (
        ReportsFilter(KindFilter.ALL, StatusFilter.ALL, 0, PeriodFilter.ALL, ListFilter.UNIT, 1),
        "vf:all:all:0:all:unit:1",
    ),
    (
        WatchReports(True, KindFilter.NOTHING, StatusFilter.RETURNED, 0, PeriodFilter.TODAY, 0),
        "vw:1:nothing:returned:0:today:0",
    ),
    (OpenReport(12), "vo:12"),
    (ReviewReport(12, ReviewVerdict.RETURN), "va:12:return"),
    (EditOwnReport(12), "oe:12"),
    (WithdrawOwnReport(12, WithdrawStep.ASK), "ow:12:ask"),
]


def test_every_class_of_the_bot_has_a_round_trip_case() -> None:
    assert {type(data) for data, _ in ROUND_TRIPS} == set(REGISTRY.classes)


@pytest.mark.parametrize(("data", "packed"), ROUND_TRIPS, ids=[p for _, p in ROUND_TRIPS])
def test_round_trip(data: CallbackData, packed: str) -> None:
    assert data.pack() == packed
    assert unpack(packed) == data
    assert REGISTRY.unpack(packed) == data
    assert type(data).unpack(packed) == data
    assert type(data).matches(packed)


@pytest.mark.parametrize(
    ("data", "packed"),
    [
        (Review(5, Verdict.MORE_INFO, True), "tv:5:m:1"),
        (Review(0, Verdict.REJECTED, False), "tv:0:r:0"),
        (Ping(), "tp"),
        (Note("a.b-c_D9"), "tn:a.b-c_D9"),
    ],
)
def test_round_trip_of_bool_enum_and_empty_classes(data: CallbackData, packed: str) -> None:
    assert data.pack() == packed
    assert TEST_REGISTRY.unpack(packed) == data
    assert unpack(packed) is None  # the bot's registry does not know test classes


def test_an_enum_field_comes_back_as_its_enum() -> None:
    review = Review.unpack("tv:5:v:0")
    assert review is not None
    assert review.verdict is Verdict.VERIFIED
    assert review.notify is False


def test_a_str_enum_member_packs_into_a_str_field_as_its_value() -> None:
    assert Note(Verdict.VERIFIED).pack() == "tn:v"


FORGED = [
    "",
    ":",
    "::",
    "r:12:a:cat:THEFT",  # the flow's earlier format
    "r:²:x",
    "rk:²",  # "²".isdigit() is True in Python
    "rk:¹²",
    "rk:٣",  # Arabic-Indic three: \d matches it
    "rk:３",  # fullwidth three
    "rk:-1",
    "rk:+1",
    "rk:01",
    "rk:00",
    "rk: 1",
    "rk:1 ",
    "rk:1\n",
    "rk:1.0",
    "rk:1e3",
    "rk:0x1",
    "rk:1_000",
    "rk:1234567890123456789",  # 19 digits
    "rk:",
    "rk",
    "rk:1:",
    "rk:1:2",
    "RK:1",
    "rk :1",
    " rk:1",
    "zz:1",
    "ra:1:cat",
    "ra:1:cat:THEFT:more",
    "ra:1::THEFT",
    "ra:1:cat:",
    "ra:1:cat:TH EFT",
    "ra:1:cat:THÉFT",
    "ra:1:cat:X/Y",
    "ra:1:cat:X;Y",
    "ra:1:cat:<b>",
    "ra:x:cat:THEFT",
    "re:12",
    "rn:12",
    "lg:",
    "lg:vi:en",
    "lg:tiếng",
    "ra:1:cat:" + "X" * 56,  # 65 bytes, every piece well formed
    "rk:1" + "\x00",
]


@pytest.mark.parametrize("data", FORGED, ids=[repr(d) for d in FORGED])
def test_forged_data_is_refused_by_the_registry_and_every_class(data: str) -> None:
    assert unpack(data) is None
    for cls in REGISTRY.classes:
        assert cls.unpack(data) is None
        assert not cls.matches(data)


@pytest.mark.parametrize("data", [None, 12, b"rk:1", ["rk", "1"], object()])
def test_anything_but_a_string_is_refused(data: object) -> None:
    assert unpack(data) is None
    assert KeepValue.unpack(data) is None


@pytest.mark.parametrize(
    "data",
    ["tv:5:m:2", "tv:5:m:true", "tv:5:m:", "tv:5:M:1", "tv:5:verified:1", "tv:5:m", "tp:", "tn:"],
)
def test_forged_bool_enum_and_empty_fields_are_refused(data: str) -> None:
    assert TEST_REGISTRY.unpack(data) is None


def test_one_class_refuses_another_classs_data() -> None:
    assert KeepValue.unpack("rs:12") is None
    assert SubmitDraft.unpack("rs:12") == SubmitDraft(12)


# --- what cannot be built -----------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: KeepValue(-1),
        lambda: KeepValue(10**18),
        lambda: KeepValue(True),  # a bool is an int to Python, not to the codec
        lambda: KeepValue("12"),  # type: ignore[arg-type]
        lambda: EditField(1, ""),
        lambda: EditField(1, "a:b"),
        lambda: EditField(1, "tiếng"),
        lambda: EditField(1, "two words"),
        lambda: ChooseLanguage("vi\n"),
        lambda: Review(1, "m", True),  # type: ignore[arg-type]
        lambda: Review(1, Verdict.VERIFIED, 1),  # type: ignore[arg-type]
    ],
)
def test_values_the_codec_cannot_carry_are_refused_when_built(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match="can't be packed"):
        build()


def test_data_over_64_bytes_is_refused_when_packed() -> None:
    fits = Note("X" * (CALLBACK_DATA_LIMIT - len("tn:")))
    assert len(fits.pack()) == CALLBACK_DATA_LIMIT
    with pytest.raises(ValueError, match="over 64 bytes"):
        Note("X" * (CALLBACK_DATA_LIMIT - len("tn:") + 1)).pack()
    with pytest.raises(ValueError, match="over 64 bytes"):
        AnswerField(BIGGEST_ID, "a_long_field_key", "X" * 40).pack()


# --- the bot's buttons fit ----------------------------------------------------------


def test_every_flow_value_and_field_key_is_packable() -> None:
    for key in FIELD_KEYS:
        for value in FLOW_VALUES:
            data = AnswerField(BIGGEST_ID, key, value)
            assert AnswerField.unpack(data.pack()) == data


# /reports' filters at their longest: a unit's place among a million, a page of 100,000.
LONGEST_KIND = max(KindFilter, key=len)
LONGEST_STATUS = max(StatusFilter, key=len)
LONGEST_PERIOD = max(PeriodFilter, key=len)
MOST_UNITS = 999_999
MOST_PAGES = 99_999
LONGEST_LIST = max(ListFilter, key=len)

LARGEST: list[CallbackData] = [
    AnswerField(BIGGEST_ID, max(FIELD_KEYS, key=len), "X" * MAX_CODE_LENGTH),
    AnswerField(BIGGEST_ID, max(FIELD_KEYS, key=len), max(FLOW_VALUES, key=len)),
    EditField(BIGGEST_ID, max(FIELD_KEYS, key=len)),
    KeepValue(BIGGEST_ID),
    SubmitDraft(BIGGEST_ID),
    DiscardDraft(BIGGEST_ID),
    ContinueDraft(BIGGEST_ID),
    ReplaceDraft(BIGGEST_ID, max(FORMS, key=len)),
    ReplaceWithNothing(BIGGEST_ID),
    ConfirmDiscard(BIGGEST_ID),
    BackToDraft(BIGGEST_ID),
    ChooseLanguage(max(SUPPORTED_LANGUAGES, key=len)),
    StartReport(max(FORMS, key=len)),
    NothingToday(),
    LeaveMember(BIGGEST_ID),
    LeaveDays(BIGGEST_ID, 999),
    AskDigest(max(DigestSpan, key=len)),
    ExportRange(max(Span, key=len), max(FileFormat, key=len)),
    ExportAs(max(FileFormat, key=len)),
    InviteRole(max(Role, key=len)),
    InviteUnit(max(Role, key=len), "f" * 12, BIGGEST_ID),
    InviteMake(max(Role, key=len), "f" * 12),
    MembersPage(BIGGEST_ID),
    DeactivateAsk(BIGGEST_ID, BIGGEST_ID),
    DeactivateDo(BIGGEST_ID),
    SameIncident(BIGGEST_ID, BIGGEST_ID),
    AcknowledgeAlert(BIGGEST_ID),
    ResolveAlert(BIGGEST_ID),
    ReportsPage(LONGEST_KIND, LONGEST_STATUS, MOST_UNITS, LONGEST_PERIOD, MOST_PAGES),
    ReportsFilter(
        LONGEST_KIND, LONGEST_STATUS, MOST_UNITS, LONGEST_PERIOD, LONGEST_LIST, MOST_PAGES
    ),
    WatchReports(True, LONGEST_KIND, LONGEST_STATUS, MOST_UNITS, LONGEST_PERIOD, MOST_PAGES),
    OpenReport(BIGGEST_ID),
    ReviewReport(BIGGEST_ID, max(ReviewVerdict, key=len)),
    EditOwnReport(BIGGEST_ID),
    WithdrawOwnReport(BIGGEST_ID, max(WithdrawStep, key=len)),
]


def test_the_largest_cases_cover_every_class() -> None:
    assert {type(data) for data in LARGEST} == set(REGISTRY.classes)


@pytest.mark.parametrize("data", LARGEST, ids=[type(d).__name__ for d in LARGEST])
def test_every_class_with_its_largest_realistic_values_fits_64_bytes(data: CallbackData) -> None:
    packed = data.pack()
    assert len(packed.encode("utf-8")) <= CALLBACK_DATA_LIMIT
    assert unpack(packed) == data


# --- declaring classes --------------------------------------------------------------


def test_prefixes_are_unique_across_the_registry() -> None:
    prefixes = [cls.prefix for cls in REGISTRY.classes]
    assert len(set(prefixes)) == len(prefixes)
    assert all(1 <= len(prefix) <= 3 for prefix in prefixes)
    before = REGISTRY.classes
    with pytest.raises(ValueError, match="is taken by AnswerField"):

        class Clash(CallbackData, prefix="ra"):
            draft: int

    assert REGISTRY.classes == before


@pytest.mark.parametrize("prefix", ["", "abcd", "A", "1a", "a:", "a-b", "ả"])
def test_a_prefix_must_be_short_lower_case_ascii(prefix: str) -> None:
    with pytest.raises(ValueError, match="callback prefix"):

        class Bad(CallbackData, prefix=prefix, registry=CallbackRegistry()):
            draft: int


def test_a_field_type_the_codec_cannot_carry_is_refused_at_declaration() -> None:
    registry = CallbackRegistry()
    with pytest.raises(TypeError, match="not int, str, bool or a StrEnum"):

        class Amount(CallbackData, prefix="am", registry=registry):
            amount: float

    with pytest.raises(TypeError, match="not int, str, bool or a StrEnum"):

        class Maybe(CallbackData, prefix="mb", registry=registry):
            draft: int | None

    with pytest.raises(TypeError, match="can't pack"):

        class Colons(CallbackData, prefix="co", registry=registry):
            value: Colon

    assert registry.classes == ()


def test_a_class_declared_in_another_registry_is_not_the_bots() -> None:
    registry = CallbackRegistry()

    class Own(CallbackData, prefix="ra", registry=registry):
        draft: int

    assert registry.unpack("ra:3") == Own(3)
    assert unpack("ra:3") is None
