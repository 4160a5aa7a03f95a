-- What each reply does (read_back, filed, emergency, ...), so a repeated delivery of a
-- webhook message is answered with the same machine-readable acts as the first.
ALTER TABLE inbound_messages ADD COLUMN IF NOT EXISTS reply_acts TEXT[] NOT NULL DEFAULT '{}';
