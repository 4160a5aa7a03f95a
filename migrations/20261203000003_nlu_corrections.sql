-- Staff corrections of the classifier (POST /api/v1/tickets/{id}/reclassify): each is a
-- labelled line that `guanjia train --corrections` learns from.
CREATE TABLE nlu_corrections (
    id          uuid PRIMARY KEY,
    ticket_id   uuid NOT NULL REFERENCES tickets (id),
    staff_id    uuid NOT NULL REFERENCES staff (id),
    text        text NOT NULL,
    kind        text NOT NULL,
    urgency     text NOT NULL,
    department  text NOT NULL,
    category    text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX nlu_corrections_created_at ON nlu_corrections (created_at);
