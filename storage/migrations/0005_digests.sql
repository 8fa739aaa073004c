-- Digests: each send of a schedule is recorded once, with the time it covers, so that the
-- next one starts where it ended and a send missed while the bot was down is made once.
CREATE TABLE digest_runs (
    id           INTEGER PRIMARY KEY,
    schedule     TEXT NOT NULL CHECK (schedule IN ('daily', 'weekly', 'monthly')),
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,  -- the scheduled moment of the send
    -- 'baseline': where the first run of a schedule starts counting; nothing was sent
    state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('baseline', 'queued')),
    recipients   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    UNIQUE (schedule, period_end)
);

-- Files the bot made (a digest's chart and spreadsheet), kept until the outbox has sent
-- them; an outbox row names its file by id.
CREATE TABLE made_files (
    id         INTEGER PRIMARY KEY,
    filename   TEXT NOT NULL,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- When a member was found to have blocked the bot (Telegram answered 403); cleared when
-- they write to it again. Messages meant for them meanwhile are not tried.
ALTER TABLE members ADD COLUMN blocked_at TEXT;

-- Set just before a message is handed to Telegram, cleared when Telegram answers. Found
-- set at start-up, the process died mid-send: the message may or may not have arrived,
-- and its purpose's retry policy decides between resending and giving it up.
ALTER TABLE outbox ADD COLUMN attempting_at TEXT;
