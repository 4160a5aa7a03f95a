-- The scheduler looks for resolved tickets whose survey is due on every pass; without this
-- it sorts every ticket to find them.
CREATE INDEX tickets_resolved_at ON tickets (resolved_at) WHERE status = 'resolved';
