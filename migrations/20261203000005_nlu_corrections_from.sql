-- What each correction changed from, beside what it changed to, so the monthly report
-- counts label changes (`reclassified.changes`) from columns instead of reading them back
-- out of the `reclassified` event's note, whose wording is free to change.
ALTER TABLE nlu_corrections
    ADD COLUMN from_kind       text,
    ADD COLUMN from_urgency    text,
    ADD COLUMN from_department text,
    ADD COLUMN from_category   text;

-- Corrections made before these columns: their `reclassified` event (same ticket, same
-- staff member, same instant: both were written in one transaction) names each label that
-- changed as `field from → to`, joined by `; ` and before any `: note`. A label the event
-- does not name did not change. This is the reading the report used until now, so past
-- months keep their figures.
UPDATE nlu_corrections c
SET from_kind = COALESCE((regexp_match(x.changes, '(^|; )kind ([a-z_]+) → '))[2], c.kind),
    from_urgency = COALESCE((regexp_match(x.changes, '(^|; )urgency ([a-z_]+) → '))[2], c.urgency),
    from_department = COALESCE((regexp_match(x.changes, '(^|; )department ([a-z_]+) → '))[2], c.department),
    from_category = COALESCE((regexp_match(x.changes, '(^|; )category ([a-z_]+) → '))[2], c.category)
FROM (
    SELECT DISTINCT ON (n.id) n.id, split_part(e.note, ': ', 1) AS changes
    FROM nlu_corrections n
    JOIN ticket_events e
      ON e.ticket_id = n.ticket_id AND e.action = 'reclassified'
     AND e.at = n.created_at AND e.actor_id = n.staff_id
    ORDER BY n.id, e.id
) x
WHERE x.id = c.id;

-- A correction whose event cannot be found changed nothing that can be named.
UPDATE nlu_corrections
SET from_kind = COALESCE(from_kind, kind),
    from_urgency = COALESCE(from_urgency, urgency),
    from_department = COALESCE(from_department, department),
    from_category = COALESCE(from_category, category)
WHERE from_kind IS NULL OR from_urgency IS NULL OR from_department IS NULL
   OR from_category IS NULL;

ALTER TABLE nlu_corrections
    ALTER COLUMN from_kind SET NOT NULL,
    ALTER COLUMN from_urgency SET NOT NULL,
    ALTER COLUMN from_department SET NOT NULL,
    ALTER COLUMN from_category SET NOT NULL;
