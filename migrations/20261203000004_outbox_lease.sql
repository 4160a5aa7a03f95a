-- A delivery's lease in wall-clock time, apart from `next_attempt_at` (the schedule, in
-- the service's clock). The two differ when the clock jumps ahead (a test's mock clock, a
-- stepped system clock): a lease kept in `next_attempt_at` then expires at once, and a
-- second worker sends a message the first is still sending.
ALTER TABLE outbox ADD COLUMN leased_until timestamptz;
