-- PostgreSQL only (its GIN trigram indexes' pending lists); SQLite's FTS5 indexes have none.
-- A migration may not be empty, so this one asks for nothing.
SELECT 1;
