-- One bot for a whole region (issue 27): the staff group a ticket was posted to (its account's
-- establishment's group, or the region's for a person not identified yet). Staff act on a
-- ticket only from that group. NULL: a ticket of before, in the one group SUPPORT_CHAT_ID.
ALTER TABLE support_tickets ADD COLUMN staff_chat_id INTEGER;
