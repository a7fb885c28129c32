-- SQLite only (its FTS5 insert triggers); PostgreSQL maintains its GIN trigram indexes itself.
-- A migration may not be empty, so this one asks for nothing.
SELECT 1;
