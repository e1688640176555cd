-- Planned inspections (#12, console/plans.rs): the orders the server generated from inspection
-- plans, by plan and due date. Written in the same transaction as the order (the order's id is
-- derived from plan, due date and site, so a due date is generated once); the plans page lists a
-- plan's orders from here and the overdue-inspections report tells a planned due date that has
-- no order yet from one that has.
CREATE TABLE plan_orders (
    work_order_id TEXT PRIMARY KEY,
    plan_id       TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    site_id       TEXT NOT NULL,
    phase         TEXT,
    generated_at  TEXT NOT NULL
);
CREATE INDEX plan_orders_plan ON plan_orders (plan_id, due_on);
CREATE INDEX plan_orders_due ON plan_orders (due_on);
