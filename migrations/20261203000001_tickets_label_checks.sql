-- The tickets' label columns hold only the spellings of `domain::labels` (and
-- `domain::Locale`); a typo in SQL or a stray write now fails at the database instead of
-- producing a row no code can read.
ALTER TABLE tickets
    ADD CONSTRAINT tickets_kind_check
        CHECK (kind IN ('repair', 'complaint', 'inquiry', 'suggestion', 'other')),
    ADD CONSTRAINT tickets_category_check
        CHECK (category IN ('housing', 'equipment', 'safety', 'environment', 'services',
                            'dispute', 'developer', 'other')),
    ADD CONSTRAINT tickets_urgency_check
        CHECK (urgency IN ('emergency', 'urgent', 'normal')),
    ADD CONSTRAINT tickets_department_check
        CHECK (department IN ('engineering', 'environment', 'security', 'customer_service')),
    ADD CONSTRAINT tickets_status_check
        CHECK (status IN ('queued', 'claimed', 'in_progress', 'resolved', 'closed',
                          'reopened', 'cancelled')),
    ADD CONSTRAINT tickets_locale_check
        CHECK (locale IN ('zh-Hans', 'zh-Hant', 'en')),
    ADD CONSTRAINT tickets_escalation_level_check
        CHECK (escalation_level >= 0);
