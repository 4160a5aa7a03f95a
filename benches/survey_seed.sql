-- Seeds 10,000 resolved tickets (one per webhook resident), resolved an hour ago, for the
-- survey dispatch benchmark (BENCHMARKS.md). Run against a fresh, migrated database.
INSERT INTO residents (id, channel, external_id, last_inbound_at)
SELECT gen_random_uuid(), 'webhook:demo', 'survey-bench-' || g, now() - interval '1 hour'
FROM generate_series(1, 10000) g;

INSERT INTO tickets (id, number, resident_id, kind, category, urgency, department, status,
                     summary, description, building, locale, created_at, resolved_at, updated_at)
SELECT gen_random_uuid(), 'B' || lpad(row_number() OVER ()::text, 8, '0'), r.id,
       'repair', 'equipment', 'normal', 'engineering', 'resolved',
       '厨房水管漏水', '厨房水管漏水', '3', 'zh-Hans',
       now() - interval '2 hours', now() - interval '1 hour', now() - interval '1 hour'
FROM residents r WHERE r.external_id LIKE 'survey-bench-%';
