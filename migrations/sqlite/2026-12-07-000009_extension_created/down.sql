-- Extension tables keep their `created` column, indexes and triggers (which fill `created` only
-- when a row comes without it), and older code ignores them; SQLite cannot find them by name
-- pattern here. Running this migration again brings them back to layout 2 at the next start.
ALTER TABLE extensions DROP COLUMN layout;
