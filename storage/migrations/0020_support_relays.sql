-- Support (issue 13): each relayed message and its copy on the other side, so that an edit is
-- mirrored. Only ids are kept (which message, which copy, text or media), never a text.
CREATE TABLE support_relays (
    id                INTEGER PRIMARY KEY,
    ticket_id         INTEGER NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    direction         TEXT NOT NULL CHECK (direction IN ('user', 'staff')),
    source_chat_id    INTEGER NOT NULL,
    source_message_id INTEGER NOT NULL,
    media             INTEGER NOT NULL DEFAULT 0,
    -- The first post of a ticket carries its context card (an edit renders it again).
    with_card         INTEGER NOT NULL DEFAULT 0,
    -- Set by the outbox once the copy is sent (and the post before it, a new ticket's card
    -- before its first photo: not sent twice when the copy is retried).
    copy_chat_id      INTEGER,
    copy_message_id   INTEGER,
    before_message_id INTEGER,
    created_at        TEXT NOT NULL,
    UNIQUE (source_chat_id, source_message_id)
);
CREATE INDEX support_relays_ticket ON support_relays (ticket_id);
