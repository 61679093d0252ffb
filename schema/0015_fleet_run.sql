-- The run record of a fleet lease's current run (issue 13, "a lost run
-- record stays running"); explained in schema/postgres/0015_fleet_run.sql.
-- This twin exists because the two lists of migrations go step by step.
ALTER TABLE fleet_accounts ADD COLUMN run_id INTEGER;
