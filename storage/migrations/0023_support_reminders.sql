-- Support (issue 13): a ticket left without a staff answer gets one reminder in the staff
-- group. Its moment is set here in the transaction that writes the reminder's outbox item,
-- only while it is empty: one reminder a ticket, whatever restarts or workers race.
ALTER TABLE support_tickets ADD COLUMN reminded_at TEXT;
CREATE INDEX support_tickets_unanswered ON support_tickets (opened_at)
    WHERE state = 'open' AND first_response_at IS NULL AND reminded_at IS NULL;
