-- The run record (run.id) of the run a fleet lease's holder is making, set
-- in the transaction that begins the record (a fenced catalog's begin_run)
-- and cleared when the lease is released. A worker killed mid-account never
-- finishes its record; the lease's expiry is the proof that it is dead (or
-- fenced off), so the next worker to claim the account closes the record as
-- "interrupted" (fleet/lease.hpp), and `imapkeep status` tells a run in
-- progress (its lease still held) from a dead one.
ALTER TABLE fleet_accounts ADD COLUMN run_id BIGINT;
