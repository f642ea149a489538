-- M6: when the contact was last seen (widget activity, a read, an inbound message), in
-- microseconds like every time column; kept apart from the JSON state so that marking it is one
-- small update that never races a card edit.
ALTER TABLE contacts ADD COLUMN last_seen_at INTEGER;
