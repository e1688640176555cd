-- The office's review of a finished work order (docs/console-api.md, "Review queue"), pulled from
-- the server: `approved` or `returned`, and the office's note. A returned order comes back open
-- (status on_site), or, when signed, waits for an amendment; the note says what to fix.
ALTER TABLE work_orders ADD COLUMN review_state TEXT;
ALTER TABLE work_orders ADD COLUMN review_note TEXT;
