-- Planned inspections (#12): an order the server generated from a contract's inspection plan
-- names the plan (the plan itself stays on the server, a desk record) and the contract phase
-- (early / middle / late third of the contract) whose checklist items the inspection form shows.
-- Both are the office's (entity::POLICY); NULL for every other order.
ALTER TABLE work_orders ADD COLUMN plan_id TEXT;
ALTER TABLE work_orders ADD COLUMN phase TEXT CHECK (phase IS NULL OR phase IN ('early', 'middle', 'late'));
