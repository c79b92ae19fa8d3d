-- A check-in of a plan with a concurrency cap counts the plan's devices that are installing;
-- without this index that count read every device of the plan on every check-in.
CREATE INDEX plan_devices_plan_state ON plan_devices(plan, state);
