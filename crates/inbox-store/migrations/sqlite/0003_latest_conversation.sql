-- C3: the contact's latest conversation on an inbox, which their next message reopens.
CREATE INDEX conversations_by_contact_inbox ON conversations (contact_id, inbox_id, created_at, id);
