-- Field stamps move into the record's own row.
--
-- In `record_clocks` a record's stamps were a second row under a second random key (ids are
-- hashes or UUIDs): on a first pull that was one more B-tree insert scattered over one more
-- index per record, and one more statement per chunk, about a fifth of applying a page. In
-- the record's row the stamps are written by the same insert. The column holds the same JSON
-- object in the compact form of `core::sync::stamps` ("*" for the stamp most fields share);
-- NULL means no field was ever stamped (a row written outside Fieldbook's write path).
-- No search trigger names `clocks`, so writing stamps never re-indexes a record.

ALTER TABLE customers ADD COLUMN clocks TEXT;
ALTER TABLE sites ADD COLUMN clocks TEXT;
ALTER TABLE assets ADD COLUMN clocks TEXT;
ALTER TABLE contracts ADD COLUMN clocks TEXT;
ALTER TABLE parts ADD COLUMN clocks TEXT;
ALTER TABLE checklist_templates ADD COLUMN clocks TEXT;
ALTER TABLE work_orders ADD COLUMN clocks TEXT;
ALTER TABLE inspection_answers ADD COLUMN clocks TEXT;
ALTER TABLE repair_records ADD COLUMN clocks TEXT;
ALTER TABLE time_entries ADD COLUMN clocks TEXT;
ALTER TABLE satisfaction_cards ADD COLUMN clocks TEXT;
ALTER TABLE signatures ADD COLUMN clocks TEXT;
ALTER TABLE amendments ADD COLUMN clocks TEXT;
ALTER TABLE attachments ADD COLUMN clocks TEXT;

UPDATE customers SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'customers' AND record_id = customers.id);
UPDATE sites SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'sites' AND record_id = sites.id);
UPDATE assets SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'assets' AND record_id = assets.id);
UPDATE contracts SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'contracts' AND record_id = contracts.id);
UPDATE parts SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'parts' AND record_id = parts.id);
UPDATE checklist_templates SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'checklist_templates' AND record_id = checklist_templates.id);
UPDATE work_orders SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'work_orders' AND record_id = work_orders.id);
UPDATE inspection_answers SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'inspection_answers' AND record_id = inspection_answers.id);
UPDATE repair_records SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'repair_records' AND record_id = repair_records.id);
UPDATE time_entries SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'time_entries' AND record_id = time_entries.id);
UPDATE satisfaction_cards SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'satisfaction_cards' AND record_id = satisfaction_cards.id);
UPDATE signatures SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'signatures' AND record_id = signatures.id);
UPDATE amendments SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'amendments' AND record_id = amendments.id);
UPDATE attachments SET clocks = (SELECT clocks FROM record_clocks WHERE entity = 'attachments' AND record_id = attachments.id);

-- Every stamped record has its row (the row and its stamps were always written in one
-- transaction), so nothing is left behind here.
DROP TABLE record_clocks;
