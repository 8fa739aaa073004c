-- A durable inbox: every update Telegram hands over is written here before its receipt
-- is confirmed (the next getUpdates), handled from here, and resumed from here at start.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER,  -- for handling one chat's updates in order; NULL if it has none
    payload     TEXT NOT NULL,  -- the update as Telegram sent it
    received_at TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'done', 'set_aside')),
    last_error  TEXT  -- why it was set aside, or why handling it failed (never user text)
);
CREATE INDEX inbox_new ON inbox(update_id) WHERE state = 'new';
CREATE INDEX inbox_received ON inbox(received_at);
