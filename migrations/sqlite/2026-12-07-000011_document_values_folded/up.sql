-- PostgreSQL only: SQLite compares text byte by byte already, and its indexes of 000010 serve
-- prefixes. A migration may not be empty, so this one asks for nothing.
SELECT 1;
