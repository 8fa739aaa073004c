"""The notices reviews send through the outbox: to the reporter of a verdict, to the
reviewer when a returned report comes back, and of each new report to those watching.

Apart from the handlers so that submitting a report (handlers/report/) can use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.access import Action, ReportRef, UnitTree, allowed
from domain.forms import FORMS, FieldKind, Form
from domain.models import Member, NewReport, Report
from domain.outbox import CallbackButton, OutboxItem, Payload
from domain.privacy import free_text, mask_phones, names_shown_to, people_or_hidden
from domain.review import Verdict
from domain.values import Address, Pin, decode_answers, encode
from handlers.context import BotContext, Services
from presentation.callbacks import EditOwnReport, OpenReport
from presentation.i18n import Html, Translator
from presentation.render import catalogue_name, shorten
from storage.members import overseers_and_tree
from storage.review import ReportView, VerdictNotices, watchers
from storage.units import get_unit

# Purposes of the outbox messages reviews send (domain/outbox.py's default retry policy:
# a duplicate notice is an annoyance, not worth resending a timed-out one).
REVIEW_PURPOSE = "review"
NEW_REPORT_PURPOSE = "new_report"
# Kinds a watcher is told of: a daily "nothing to report" is not news.
NOTICE_KINDS = frozenset(FORMS)


def report_ref(report: Report) -> ReportRef:
    return ReportRef(report.member_id, report.unit_code, report.status)


def may_review(member: Member, report: Report, tree: UnitTree) -> bool:
    return allowed(member, Action.REVIEW_REPORT, tree, report=report_ref(report))


def names_shown(context: BotContext, viewer: Member, tree: UnitTree) -> bool:
    """Whether the viewer may be shown reporters' names (BOT_PRIVACY_LEVEL)."""
    return names_shown_to(tree, viewer.unit_code, context.settings.privacy_level)


def private_answers(form: Form, data: Mapping[str, Any], hidden: str) -> dict[str, Any]:
    """A report's answers for a viewer above the privacy level: the people involved
    hidden, phone numbers masked in free text (domain/privacy.py)."""
    answers = decode_answers(form, data)
    shown = dict(data)
    for spec in form.fields:
        value = answers.get(spec.key)
        if spec.key == "people" and isinstance(value, str):
            shown[spec.key] = encode(spec, people_or_hidden(value, False, hidden))
        elif spec.kind is FieldKind.TEXT and isinstance(value, str):
            shown[spec.key] = encode(spec, free_text(value, False))
        elif isinstance(value, Address):
            shown[spec.key] = encode(spec, Address(mask_phones(value.text)))
        elif isinstance(value, Pin) and value.title:
            shown[spec.key] = encode(
                spec, Pin(value.latitude, value.longitude, mask_phones(value.title))
            )
    return shown


def who(t: Translator, lang: str, name: str | None, role: str | None) -> Html:
    if name is None:
        return t.html(lang, "review.actor_bot")
    role_name = t.plain(lang, f"role.{role}") if role else ""
    return t.html(lang, "review.actor", name=name, role=role_name)


# --- notices --------------------------------------------------------------------------


def verdict_notices(
    services: Services, view: ReportView, reviewer: Member, verdict: Verdict, note: str | None
) -> VerdictNotices:
    """The reporter's notice of a verdict, in their language; keyed by the verdict's event."""
    reporter = view.reporter
    t, lang = services.translator, reporter.language

    def notices(event_id: int) -> Sequence[OutboxItem]:
        if not reporter.active:
            return ()
        text = t.html(
            lang,
            f"review.notice.{verdict.value}",
            number=view.report.id,
            reviewer=who(t, lang, reviewer.full_name, reviewer.role),
            note=note or "",
        )
        buttons: tuple[tuple[CallbackButton, ...], ...] = ()
        if verdict is Verdict.RETURN:
            answer = CallbackButton(
                t.plain(lang, "own.button.answer", number=view.report.id),
                EditOwnReport(view.report.id).pack(),
            )
            buttons = ((answer,),)
        return (
            OutboxItem(
                key=f"{REVIEW_PURPOSE}:{view.report.id}:{event_id}",
                purpose=REVIEW_PURPOSE,
                chat_id=reporter.chat_id,
                payload=Payload(text, buttons),
                recipient_id=reporter.id,
                report_id=view.report.id,
            ),
        )

    return notices


def _notice_line(
    services: Services, language: str, report_id: int, report: NewReport, reporter: str,
    unit_name: str,
) -> Html:  # fmt: skip
    t = services.translator
    title = t.html(language, FORMS[report.kind].title)
    category = catalogue_name(services.items(report.kind), report.category_code, language)
    return t.html(
        language,
        "review.notice.new_report",
        number=report_id,
        title=title,
        category=shorten(category, 40),
        unit=unit_name,
        reporter=reporter,
    )


async def new_report_notices(
    context: BotContext, reporter: Member, report: NewReport
) -> VerdictNotices:
    """Notices of a new report for everyone who asked for them and may see it.

    Urgent incidents are not among them: their alert already went, to those who must act.
    """
    if report.urgent or report.kind not in NOTICE_KINDS:
        return lambda report_id: ()
    found = await watchers(context.db)
    if not found:
        return lambda report_id: ()
    tree, _ = await overseers_and_tree(context.db)
    unit = await get_unit(context.db, reporter.unit_code)
    unit_name = unit.name if unit else reporter.unit_code
    # A report is filed in its reporter's unit, and stays there.
    about = ReportRef(reporter.id, reporter.unit_code, "submitted")
    recipients = [
        watcher
        for watcher in found
        if watcher.id != reporter.id and allowed(watcher, Action.VIEW_REPORT, tree, report=about)
    ]
    services = context.services

    def shown_name(watcher: Member) -> str:
        if names_shown(context, watcher, tree):
            return reporter.full_name
        return services.translator.plain(watcher.language, "privacy.hidden")

    def notices(report_id: int) -> Sequence[OutboxItem]:
        items = []
        for watcher in recipients:
            lang = watcher.language
            open_button = CallbackButton(
                services.translator.plain(lang, "reports.button.open_full"),
                OpenReport(report_id).pack(),
            )
            items.append(
                OutboxItem(
                    key=f"{NEW_REPORT_PURPOSE}:{report_id}:{watcher.id}",
                    purpose=NEW_REPORT_PURPOSE,
                    chat_id=watcher.chat_id,
                    payload=Payload(
                        _notice_line(
                            services, lang, report_id, report, shown_name(watcher), unit_name
                        ),
                        ((open_button,),),
                    ),
                    recipient_id=watcher.id,
                    report_id=report_id,
                )
            )
        return items

    return notices


async def resubmitted_notices(
    context: BotContext, view: ReportView, reviewer: Member | None, draft_id: int
) -> list[OutboxItem]:
    """Tell the reviewer who asked for more information that the answer has come."""
    if reviewer is None or not reviewer.active:
        return []
    tree, _ = await overseers_and_tree(context.db)
    if not may_review(reviewer, view.report, tree):
        return []
    t, lang = context.t, reviewer.language
    text = t.html(
        lang,
        "review.notice.resubmitted",
        number=view.report.id,
        reporter=view.reporter.full_name
        if names_shown(context, reviewer, tree)
        else t.plain(lang, "privacy.hidden"),
    )
    open_button = CallbackButton(
        t.plain(lang, "reports.button.open_full"), OpenReport(view.report.id).pack()
    )
    return [
        OutboxItem(
            key=f"{REVIEW_PURPOSE}:{view.report.id}:resubmitted:{draft_id}",
            purpose=REVIEW_PURPOSE,
            chat_id=reviewer.chat_id,
            payload=Payload(text, ((open_button,),)),
            recipient_id=reviewer.id,
            report_id=view.report.id,
        )
    ]
