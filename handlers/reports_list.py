"""/reports: the reports of the units one oversees, newest first, filtered and paged by
buttons that edit the one message.

Supervisors see their subtree, admins everything, team leaders and deputies their own
team (domain/access.py ``visible_units``); members are refused. A button carries only
the list's filters and page: every tap asks the access rules again and reads the list
afresh, so a forged or stale button shows no more than its sender may see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from domain.access import Action, Actor, UnitTree, visible_units
from domain.forms import FORMS
from domain.review import (
    KindFilter,
    PeriodFilter,
    StatusFilter,
    clamp_page,
    page_count,
    period_start,
)
from handlers.context import BotContext
from handlers.guard import permit
from handlers.review_notices import names_shown
from presentation.callbacks import (
    ListFilter,
    OpenReport,
    ReportsFilter,
    ReportsPage,
    WatchReports,
    unpack,
)
from presentation.i18n import Html
from presentation.keyboards import callback_button
from presentation.render import catalogue_name, local_day, local_time, shorten
from storage.review import ListedReport, is_watching, list_reports, set_watching
from storage.units import all_units

PER_PAGE = 8
UNITS_PER_PAGE = 12
# Report number buttons per row.
NUMBERS_PER_ROW = 4


@dataclass(frozen=True)
class ListState:
    """The list's filters and page, as its buttons carry them."""

    kind: KindFilter = KindFilter.ALL
    status: StatusFilter = StatusFilter.ALL
    unit: int = 0  # 0: every unit; else 1 + the unit's position in Scope.visible
    period: PeriodFilter = PeriodFilter.ALL
    page: int = 0

    @classmethod
    def of(cls, data: ReportsPage | ReportsFilter | WatchReports) -> ListState:
        page = data.page if isinstance(data, ReportsPage | WatchReports) else 0
        return cls(data.kind, data.status, data.unit, data.period, page)

    def page_data(self) -> str:
        return ReportsPage(self.kind, self.status, self.unit, self.period, self.page).pack()

    def filter_data(self, which: ListFilter, page: int = 0) -> str:
        return ReportsFilter(self.kind, self.status, self.unit, self.period, which, page).pack()

    def watch_data(self, on: bool) -> str:
        return WatchReports(on, self.kind, self.status, self.unit, self.period, self.page).pack()


# A filter choice's button: its label, the list it leads to, and whether it is current.
Choice = Callable[[str, ListState, bool], InlineKeyboardButton]


@dataclass(frozen=True)
class Scope:
    """What the asker may see: the tree, their units (sorted by code) and unit names."""

    tree: UnitTree
    visible: tuple[str, ...]
    names: dict[str, str]

    def selected(self, index: int) -> str | None:
        """The unit a filter's index names; None (every unit) for 0 or one out of range."""
        return self.visible[index - 1] if 1 <= index <= len(self.visible) else None

    def index_of(self, code: str) -> int:
        return self.visible.index(code) + 1

    def units_for(self, selected: str | None) -> frozenset[str]:
        """The units a list shows: the chosen unit's subtree, within what may be seen."""
        if selected is None:
            return frozenset(self.visible)
        return self.tree.subtree(selected) & frozenset(self.visible)

    def children(self, code: str) -> list[str]:
        seen = set(self.visible)
        return sorted(c for c in self.tree.children(code) if c in seen)

    def tops(self) -> list[str]:
        seen = set(self.visible)
        return [c for c in self.visible if self.tree.parent(c) not in seen]


async def scope_of(context: BotContext) -> Scope:
    """The asker's scope as the access rules give it now."""
    member = context.registered_member()
    units = await all_units(context.db)
    tree = UnitTree(units)
    visible = tuple(sorted(visible_units(Actor.of(member, active=member.active), tree)))
    return Scope(tree, visible, {unit.code: unit.name for unit in units})


async def show_reports(update: Update, context: BotContext) -> None:
    """/reports: the first page of the list, every filter open."""
    if not await permit(update, context, Action.LIST_REPORTS):
        return
    text, markup = await render_list(context, await scope_of(context), ListState())
    assert update.effective_message is not None
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_button(update: Update, context: BotContext) -> None:
    """A page, a filter's choices, or the notice switch: checked again, then redrawn."""
    query = update.callback_query
    assert query is not None
    member = context.registered_member()
    t, lang = context.t, member.language
    data = unpack(query.data)
    if not isinstance(data, ReportsPage | ReportsFilter | WatchReports):
        await query.answer(t.plain(lang, "error.stale_button"))
        return
    if not await permit(update, context, Action.LIST_REPORTS):
        return
    scope = await scope_of(context)
    state = ListState.of(data)
    popup = None
    if isinstance(data, WatchReports):
        await set_watching(context.db, member.id, data.on)
        popup = t.plain(lang, "reports.watch_on" if data.on else "reports.watch_off")
    if isinstance(data, ReportsFilter):
        text, markup = render_chooser(context, scope, state, data.which, data.page)
    else:
        text, markup = await render_list(context, scope, state)
    await query.answer(popup)
    await show(context, query.message, text, markup)


async def show(
    context: BotContext, message: object, text: Html, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the tapped message into the new screen; send it anew if it cannot be edited
    (a message too old to edit arrives as an inaccessible one, with its chat only)."""
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except BadRequest as error:
            if "not modified" in str(error):
                return  # the same screen tapped again
    chat = getattr(message, "chat", None)
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


# --- the list -----------------------------------------------------------------------


async def render_list(
    context: BotContext, scope: Scope, state: ListState
) -> tuple[Html, InlineKeyboardMarkup]:
    """One page of the list, with its filters, paging and notice switch."""
    member = context.registered_member()
    t, lang = context.t, member.language
    since = period_start(state.period, context.services.clock.now(), context.settings.timezone)
    units = scope.units_for(scope.selected(state.unit))
    kind = None if state.kind is KindFilter.ALL else state.kind.value
    status = None if state.status is StatusFilter.ALL else state.status.value

    async def page_of(page: int) -> tuple[int, Sequence[ListedReport]]:
        found = await list_reports(
            context.db, units, kind=kind, status=status, since=since,
            limit=PER_PAGE, offset=page * PER_PAGE,
        )  # fmt: skip
        return found.total, found.reports

    total, listed = await page_of(max(state.page, 0))
    page = clamp_page(state.page, total, PER_PAGE)
    if page != state.page:  # a forged or stale page number: show the nearest real one
        total, listed = await page_of(page)
    state = replace(state, page=page)

    header = t.html(
        lang, "reports.header", count=total, filters=_filters_line(context, scope, state)
    )
    if listed:
        shown = names_shown(context, member, scope.tree)
        lines = "\n".join(_line(context, report, shown) for report in listed)
        body = Html(f"{header}\n\n{lines}")
    else:
        body = Html(f"{header}\n\n{t.html(lang, 'reports.empty')}")
    pages = page_count(total, PER_PAGE)
    if pages > 1:
        body = Html(f"{body}\n\n{t.html(lang, 'reports.page', page=page + 1, pages=pages)}")

    rows: list[list[InlineKeyboardButton]] = []
    numbers = [
        callback_button(t.plain(lang, "reports.button.open", number=r.id), OpenReport(r.id).pack())
        for r in listed
    ]
    rows += [numbers[i : i + NUMBERS_PER_ROW] for i in range(0, len(numbers), NUMBERS_PER_ROW)]
    paging = []
    if page > 0:
        paging.append(
            callback_button(
                t.plain(lang, "reports.button.newer"), replace(state, page=page - 1).page_data()
            )
        )
    if page + 1 < pages:
        paging.append(
            callback_button(
                t.plain(lang, "reports.button.older"), replace(state, page=page + 1).page_data()
            )
        )
    if paging:
        rows.append(paging)
    filters = [
        callback_button(_filter_label(context, scope, state, which), state.filter_data(which))
        for which in ListFilter
    ]
    rows += [filters[:2], filters[2:]]
    watching = await is_watching(context.db, member.id)
    watch_key = "reports.button.watch_off" if watching else "reports.button.watch_on"
    rows.append([callback_button(t.plain(lang, watch_key), state.watch_data(not watching))])
    return body, InlineKeyboardMarkup(rows)


def _line(context: BotContext, report: ListedReport, names: bool) -> Html:
    """One report of the list; the reporter's name only if the viewer may see names."""
    t, lang = context.t, context.registered_member().language
    reporter = report.reporter_name if names else t.plain(lang, "privacy.hidden")
    zone = context.settings.timezone
    if report.kind in FORMS:
        title = t.html(lang, FORMS[report.kind].title)
        items = context.services.items(report.kind)
        what = shorten(catalogue_name(items, report.category_code, lang), 30)
        when = local_time(report.submitted_at, zone)
    else:
        title = t.html(lang, "reports.kind.nothing")
        what = ""
        when = local_day(date.fromisoformat(report.period_date))
    return t.html(
        lang,
        "reports.line",
        number=report.id,
        urgent=t.html(lang, "my.urgent_mark") if report.urgent else "",
        title=title,
        what=Html(f" · {escape(what, quote=False)}") if what else "",
        unit=shorten(report.unit_name, 30),
        reporter=shorten(reporter, 30),
        when=when,
        status=t.html(lang, f"status.{report.status.value}"),
    )


def _value_label(context: BotContext, scope: Scope, state: ListState, which: ListFilter) -> str:
    t, lang = context.t, context.registered_member().language
    match which:
        case ListFilter.KIND:
            return t.plain(lang, f"reports.kind.{state.kind.value}")
        case ListFilter.STATUS:
            if state.status is StatusFilter.ALL:
                return t.plain(lang, "reports.status_all")
            return t.plain(lang, f"status.{state.status.value}")
        case ListFilter.UNIT:
            selected = scope.selected(state.unit)
            if selected is None:
                return t.plain(lang, "reports.unit_all")
            return shorten(scope.names.get(selected, selected), 24)
        case ListFilter.PERIOD:
            return t.plain(lang, f"reports.period.{state.period.value}")


def _filter_label(context: BotContext, scope: Scope, state: ListState, which: ListFilter) -> str:
    t, lang = context.t, context.registered_member().language
    value = _value_label(context, scope, state, which)
    return t.plain(lang, f"reports.filter.{which.value}", value=value)


def _filters_line(context: BotContext, scope: Scope, state: ListState) -> str:
    return " · ".join(_filter_label(context, scope, state, which) for which in ListFilter)


# --- a filter's choices ---------------------------------------------------------------


def render_chooser(
    context: BotContext, scope: Scope, state: ListState, which: ListFilter, page: int
) -> tuple[Html, InlineKeyboardMarkup]:
    """The choices of one filter; each goes back to the list's first page with it."""
    t, lang = context.t, context.registered_member().language
    first = replace(state, page=0)
    rows: list[list[InlineKeyboardButton]] = []

    def choice(label: str, chosen: ListState, current: bool) -> InlineKeyboardButton:
        shown = t.plain(lang, "reports.current", label=label) if current else label
        return callback_button(shown, chosen.page_data())

    if which is ListFilter.KIND:
        options = [
            choice(
                t.plain(lang, f"reports.kind.{k.value}"), replace(first, kind=k), k is state.kind
            )
            for k in KindFilter
        ]
        rows += [options[i : i + 2] for i in range(0, len(options), 2)]
    elif which is ListFilter.STATUS:
        options = [
            choice(
                t.plain(lang, "reports.status_all")
                if s is StatusFilter.ALL
                else t.plain(lang, f"status.{s.value}"),
                replace(first, status=s),
                s is state.status,
            )
            for s in StatusFilter
        ]
        rows += [options[i : i + 2] for i in range(0, len(options), 2)]
    elif which is ListFilter.PERIOD:
        options = [
            choice(
                t.plain(lang, f"reports.period.{p.value}"),
                replace(first, period=p),
                p is state.period,
            )
            for p in PeriodFilter
        ]
        rows += [options[i : i + 2] for i in range(0, len(options), 2)]
    else:
        rows += _unit_rows(context, scope, state, page, choice)
    rows.append([callback_button(t.plain(lang, "reports.button.back"), state.page_data())])
    return t.html(lang, f"reports.choose.{which.value}"), InlineKeyboardMarkup(rows)


def _unit_rows(
    context: BotContext, scope: Scope, state: ListState, page: int, choice: Choice
) -> list[list[InlineKeyboardButton]]:
    """Every unit, then the chosen unit's parent and the units below it, a page at a time.

    The tree is walked a level at a time: a province's supervisor picks a commune, then,
    opening the filter again, one of its hamlets.
    """
    t, lang = context.t, context.registered_member().language
    first = replace(state, page=0)
    selected = scope.selected(state.unit)
    rows: list[list[InlineKeyboardButton]] = [
        [choice(t.plain(lang, "reports.unit_all"), replace(first, unit=0), selected is None)]
    ]
    if selected is None:
        tops = scope.tops()
        below = scope.children(tops[0]) if len(tops) == 1 else []
        candidates = below or tops
    else:
        parent = scope.tree.parent(selected)
        if parent is not None and parent in scope.visible:
            up = t.plain(lang, "reports.unit_up", name=shorten(scope.names.get(parent, parent), 30))
            rows.append([choice(up, replace(first, unit=scope.index_of(parent)), False)])
        rows.append([choice(shorten(scope.names.get(selected, selected), 30), first, True)])
        candidates = scope.children(selected)
    pages = page_count(len(candidates), UNITS_PER_PAGE)
    page = clamp_page(page, len(candidates), UNITS_PER_PAGE)
    shown = candidates[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    buttons = [
        choice(
            shorten(scope.names.get(code, code), 30),
            replace(first, unit=scope.index_of(code)),
            False,
        )
        for code in shown
    ]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    paging = []
    if page > 0:
        paging.append(
            callback_button(
                t.plain(lang, "reports.button.units_before"),
                state.filter_data(ListFilter.UNIT, page - 1),
            )
        )
    if page + 1 < pages:
        paging.append(
            callback_button(
                t.plain(lang, "reports.button.units_after"),
                state.filter_data(ListFilter.UNIT, page + 1),
            )
        )
    if paging:
        rows.append(paging)
    return rows


def is_list_button(data: object) -> bool:
    """Whether a button's data is the list's: a page, a filter's choices, the notices."""
    return isinstance(unpack(data), ReportsPage | ReportsFilter | WatchReports)
