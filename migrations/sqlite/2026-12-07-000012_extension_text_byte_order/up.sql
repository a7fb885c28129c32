-- PostgreSQL only: SQLite compares text byte by byte already. A migration may not be empty,
-- so this one asks for nothing.
SELECT 1;
