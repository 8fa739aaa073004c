"""Build the Application: every handler is registered here, top to bottom."""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from datetime import timedelta

from telegram import BotCommand, BotCommandScopeDefault, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from domain.catalogue import default_catalogues
from domain.clock import Clock, SystemClock
from domain.holidays_csv import default_holidays
from domain.settings import Settings
from handlers import (
    alert_actions,
    deadlines,
    digest,
    errors,
    export,
    gate,
    invite,
    join,
    leave,
    members,
    menu,
    own_reports,
    reports_list,
    review,
)
from handlers.alerts import (
    escalate_job,
    escalate_unreached,
    prepare,
    reach_the_unreached,
    render_carried_over,
)
from handlers.context import BotApplication, BotContext, Services, services_of
from handlers.digest_worker import DigestWorker
from handlers.inbox import ChatOrderedProcessor, InboxRequest, Receiver, finisher
from handlers.outbox import OutboxSender
from handlers.ratelimit import ChatRateLimiter
from handlers.report import answers, submit, urgent
from presentation.callbacks import (
    AskDigest,
    ChooseLanguage,
    LeaveDays,
    LeaveMember,
    NothingToday,
    OpenReport,
    ReviewReport,
    SameIncident,
    StartReport,
    unpack,
)
from presentation.i18n import Translator
from presentation.keyboards import (
    COMMAND_BUTTONS,
    MENU_ACTIVITY,
    MENU_INCIDENT,
    MENU_MY,
    MENU_NOTHING,
    MENU_URGENT,
)
from storage.catalogue import all_catalogues, seed_catalogues
from storage.db import Database
from storage.holidays import seed_holidays
from storage.inbox import forget_handled
from storage.outbox import forget_made_files
from storage.updates import forget_old_updates

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's coming timedelta durations (RetryAfter.retry_after);
# without it every 429 also raises a deprecation warning. Nothing of ours reads them.
os.environ.setdefault("PTB_TIMEDELTA", "1")

# (command, message id of its description) in the order the menu shows them.
COMMANDS = (
    ("incident", "command.incident"),
    ("activity", "command.activity"),
    ("nothing", "command.nothing"),
    ("my", "command.my"),
    ("cancel", "command.cancel"),
    ("language", "command.language"),
    ("help", "command.help"),
)
# How often the outbox is looked at for messages due: new ones are sent by their
# producer at once, so this paces retries and catching up after a restart.
OUTBOX_INTERVAL = timedelta(seconds=5)
# How often unacknowledged urgent alerts are looked at, to go one level up when due.
ESCALATE_INTERVAL = timedelta(seconds=30)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    rate_limit: bool = True,
    digest_executor: Executor | None = None,
) -> BotApplication:
    """Create the Application with its services; nothing is opened until post_init.

    ``digest_executor``: where digests are drawn; by default a process of their own,
    started on first use (tests share one between applications).
    """
    translator = Translator.load(settings.language)
    clock = clock or SystemClock()
    db = Database(settings.db_path, clock)
    failed: set[int] = set()
    processor = ChatOrderedProcessor(finisher(db, failed, clock.now))
    holder: list[Receiver] = []
    # Every batch of updates is written to the inbox before python-telegram-bot sees it,
    # and so before its next getUpdates confirms it to Telegram.
    updates_request = InboxRequest(
        request or HTTPXRequest(connection_pool_size=1),
        lambda: holder[0] if holder else None,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .context_types(ContextTypes(context=BotContext))
        # No link previews: an alert's map link would otherwise bring a large map card
        # after the native location the alert already sends.
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(processor)
        .get_updates_request(updates_request)
        .post_init(_open_services)
        .post_stop(_finish_updates)
        .post_shutdown(_close_services)
    )
    if request is not None:
        builder = builder.request(request)
    if rate_limit:
        # Keeps to Telegram's flood limits; a 429 holds back only the chat it names.
        builder = builder.rate_limiter(ChatRateLimiter(monotonic=clock.monotonic))
    application: BotApplication = builder.build()
    receiver = Receiver(db, lambda payload: Update.de_json(payload, application.bot))
    holder.append(receiver)
    services = Services(
        settings=settings,
        db=db,
        translator=translator,
        clock=clock,
        outbox=OutboxSender(db, clock),
        receiver=receiver,
        processor=processor,
        failed_updates=failed,
        digest_worker=DigestWorker(digest_executor),
    )
    # Outbox rows queued by an older version carry no text; they are rendered on sending.
    services.outbox.legacy = lambda row: render_carried_over(services, row)
    # An urgent alert that reached nobody at its level goes one level up, then to admins.
    services.outbox.given_up = lambda row: escalate_unreached(services, row)
    # An alert's copy says who took it on, however late it is sent or edited.
    services.outbox.prepare = lambda row, payload: prepare(services, row, payload)
    application.bot_data["services"] = services
    register_handlers(application, translator)
    return application


def register_handlers(application: BotApplication, translator: Translator) -> None:
    """Every handler, in the order an update meets them."""
    # Edited messages are not answers: re-reading one would move a member's draft on.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

    # Group -1: drop a redelivered update, find out who is asking (and their draft, in
    # the same read); strangers stop here unless they are joining.
    application.add_handler(TypeHandler(Update, gate.admit), group=-1)

    # Group 0: the flows. Commands and menu buttons come before the catch-all message
    # handler, so that tapping a menu button mid-report is a command, not an answer.
    application.add_handler(CommandHandler("start", join.start, filters=private))
    application.add_handler(CommandHandler("help", menu.show_help, filters=private))
    application.add_handler(CommandHandler("language", menu.ask_language, filters=private))
    # /cancel drops first a comment a reviewer is asked for (handlers/review.py).
    application.add_handler(CommandHandler("cancel", review.cancel, filters=private))
    application.add_handler(CommandHandler("nothing", menu.nothing_to_report, filters=private))
    application.add_handler(CommandHandler("my", menu.my_reports, filters=private))
    application.add_handler(CommandHandler("reports", reports_list.show_reports, filters=private))
    application.add_handler(CommandHandler("overdue", deadlines.show_overdue, filters=private))
    application.add_handler(CommandHandler("leave", leave.ask_member, filters=private))
    application.add_handler(CommandHandler("digest", digest.ask, filters=private))
    application.add_handler(CommandHandler("export", export.ask, filters=private))
    application.add_handler(CommandHandler("invite", invite.ask, filters=private))
    application.add_handler(CommandHandler("members", members.show, filters=private))
    application.add_handler(CommandHandler("urgent", urgent.start_urgent, filters=private))
    application.add_handler(CommandHandler("incident", menu.start_incident, filters=private))
    application.add_handler(CommandHandler("activity", menu.start_activity, filters=private))
    for key, callback in (
        (MENU_URGENT, urgent.start_urgent),
        (MENU_INCIDENT, menu.start_incident),
        (MENU_ACTIVITY, menu.start_activity),
        (MENU_NOTHING, menu.nothing_to_report),
        (MENU_MY, menu.my_reports),
    ):
        button = filters.Text(sorted(translator.all_variants(key)))
        application.add_handler(MessageHandler(private & button, callback))
    # Supervisors' and team leaders' buttons: each runs its command, whoever answers it.
    for key, command in COMMAND_BUTTONS.items():
        button = filters.Text(sorted(translator.all_variants(key)))
        application.add_handler(MessageHandler(private & button, menu.as_command(command)))
    application.add_handler(
        CallbackQueryHandler(menu.choose_language, pattern=ChooseLanguage.matches)
    )
    application.add_handler(CallbackQueryHandler(answers.on_callback, pattern=_report_button))
    application.add_handler(
        CallbackQueryHandler(deadlines.on_reminder_button, pattern=_reminder_button)
    )
    application.add_handler(CallbackQueryHandler(leave.on_button, pattern=_leave_button))
    application.add_handler(CallbackQueryHandler(digest.on_button, pattern=AskDigest.matches))
    application.add_handler(CallbackQueryHandler(export.on_button, pattern=export.is_export_button))
    application.add_handler(CallbackQueryHandler(invite.on_button, pattern=invite.is_invite_button))
    application.add_handler(
        CallbackQueryHandler(members.on_button, pattern=members.is_members_button)
    )
    application.add_handler(
        CallbackQueryHandler(submit.on_same_incident, pattern=SameIncident.matches)
    )
    application.add_handler(
        CallbackQueryHandler(alert_actions.on_button, pattern=alert_actions.is_alert_button)
    )
    application.add_handler(
        CallbackQueryHandler(reports_list.on_button, pattern=reports_list.is_list_button)
    )
    application.add_handler(CallbackQueryHandler(review.on_open, pattern=OpenReport.matches))
    application.add_handler(CallbackQueryHandler(review.on_verdict, pattern=ReviewReport.matches))
    application.add_handler(
        CallbackQueryHandler(own_reports.on_button, pattern=own_reports.is_own_button)
    )
    # Last in the group: what no flow took still gets an answer, never silence.
    application.add_handler(CallbackQueryHandler(menu.stale_button))
    application.add_handler(MessageHandler(private & filters.COMMAND, menu.unknown_command))
    # A typed range of days right after /export; any other time, a report's answer.
    typed_range = private & filters.TEXT & ~filters.COMMAND & export.typed_range(application)
    application.add_handler(MessageHandler(typed_range, export.on_typed))
    application.add_handler(
        # A reviewer's awaited comment (handlers/review.py), or else a report's answer.
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, review.on_message)
    )
    # No group after the flows: the update processor records each update handled to the
    # end (handlers/inbox.py), whichever group stopped it or failed.

    application.add_error_handler(errors.report_error)


async def _open_services(application: BotApplication) -> None:
    """Open the database, load defaults, set the command menu, resume pending alerts."""
    services = services_of(application)
    await services.db.open()
    for kind in await seed_catalogues(services.db, default_catalogues()):
        log.info("loaded the default %s catalogue", kind)
    await seed_holidays(services.db, default_holidays())
    services.catalogues = await all_catalogues(services.db)
    await services.outbox.settle_interrupted()
    await set_command_menus(application, services.translator)
    if resumed := await gate.resume_interrupted_updates(application):
        log.info("showed %d member(s) where they were after an interrupted update", resumed)
    if handled := await gate.handle_unfinished_updates(application):
        log.info("handled %d update(s) received before a restart and never finished", handled)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            drain_outbox, interval=OUTBOX_INTERVAL, first=timedelta(seconds=1),
            name="outbox:drain",
        )  # fmt: skip
        application.job_queue.run_repeating(
            prune_updates, interval=timedelta(hours=6), first=timedelta(minutes=1),
            name="updates:prune",
        )  # fmt: skip
        application.job_queue.run_repeating(
            gate.retry_stalled_updates, interval=timedelta(minutes=1),
            first=timedelta(minutes=1), name="inbox:retry",
        )  # fmt: skip
        # Rules are read afresh each time: one added or removed takes effect within a minute.
        application.job_queue.run_repeating(
            deadlines.tick, interval=timedelta(minutes=1), first=timedelta(seconds=10),
            name="deadlines:tick",
        )  # fmt: skip
        # A digest missed while the bot was down is caught up a few seconds after start.
        application.job_queue.run_repeating(
            digest.tick, interval=timedelta(minutes=1), first=timedelta(seconds=5),
            name="digests:tick",
        )  # fmt: skip
        # An urgent alert nobody acknowledged within BOT_ESCALATE_AFTER goes one level up.
        application.job_queue.run_repeating(
            escalate_job, interval=ESCALATE_INTERVAL, first=timedelta(seconds=15),
            name="alerts:escalate",
        )  # fmt: skip


def _leave_button(data: object) -> bool:
    """Whether a button's data is the leave flow's."""
    return LeaveMember.matches(data) or LeaveDays.matches(data)


def _reminder_button(data: object) -> bool:
    """Whether a button's data is a reminder's."""
    return StartReport.matches(data) or NothingToday.matches(data)


def _report_button(data: object) -> bool:
    """Whether a button's data is one of the report flow's."""
    found = unpack(data)
    return found is not None and hasattr(found, "draft")


async def _finish_updates(application: BotApplication) -> None:
    """Let every update taken in be handled while the bot can still send its replies.

    python-telegram-bot closes its connection to Telegram in shutdown, after this; the
    update processor hands updates on without waiting, so they are waited for here.
    """
    await services_of(application).processor.shutdown()


async def _close_services(application: BotApplication) -> None:
    services = services_of(application)
    services.digest_worker.close()
    await services.db.close()


async def set_command_menus(application: BotApplication, translator: Translator) -> None:
    """Set the command menu in every language; the default one in the deployment's."""
    for language in translator.languages:
        commands = [BotCommand(name, translator.plain(language, key)) for name, key in COMMANDS]
        is_default = language == translator.default_language
        await application.bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if is_default else language,
        )


async def drain_outbox(context: BotContext) -> None:
    """Send proactive messages that are due: new ones, retries, those a restart left."""
    await reach_the_unreached(context.services)
    sent = await context.services.outbox.drain(context.bot)
    if sent:
        log.info("sent %d message(s) from the outbox", sent)


async def prune_updates(context: BotContext) -> None:
    """Forget what Telegram can no longer send again: update keys, and the inbox's words."""
    await forget_old_updates(context.db)
    await forget_handled(context.db, context.services.clock.now() - timedelta(days=2))
    # A digest's files are kept until sent, and a week more for a look at what went out.
    await forget_made_files(context.db, context.services.clock.now() - timedelta(days=7))


class RedactToken(logging.Filter):
    """Replace the bot token wherever it appears in a log line, tracebacks included.

    python-telegram-bot puts the token in some error messages (a rejected token) and
    httpx in every request URL; a log file must never hold it.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._token:
            return True
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if self._token in text:
            # The traceback is folded into the message so that it can be redacted too.
            record.msg, record.args = text.replace(self._token, "<TOKEN>"), None
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(token: str = "") -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
