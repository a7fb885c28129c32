-- `co` and `ew` filters on userName, displayName and emails: FTS5 trigram indexes kept in step
-- with their tables by triggers, so a substring match reads the index instead of every row.
CREATE VIRTUAL TABLE users_trigram USING fts5(
    user_name_folded, display_name_folded,
    content = 'users', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER users_trigram_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_trigram (rowid, user_name_folded, display_name_folded)
    VALUES (new.rowid, new.user_name_folded, new.display_name_folded);
END;
CREATE TRIGGER users_trigram_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_trigram (users_trigram, rowid, user_name_folded, display_name_folded)
    VALUES ('delete', old.rowid, old.user_name_folded, old.display_name_folded);
END;
CREATE TRIGGER users_trigram_update AFTER UPDATE OF user_name_folded, display_name_folded ON users
BEGIN
    INSERT INTO users_trigram (users_trigram, rowid, user_name_folded, display_name_folded)
    VALUES ('delete', old.rowid, old.user_name_folded, old.display_name_folded);
    INSERT INTO users_trigram (rowid, user_name_folded, display_name_folded)
    VALUES (new.rowid, new.user_name_folded, new.display_name_folded);
END;

CREATE VIRTUAL TABLE groups_trigram USING fts5(
    display_name_folded, content = 'groups', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER groups_trigram_insert AFTER INSERT ON groups BEGIN
    INSERT INTO groups_trigram (rowid, display_name_folded) VALUES (new.rowid, new.display_name_folded);
END;
CREATE TRIGGER groups_trigram_delete AFTER DELETE ON groups BEGIN
    INSERT INTO groups_trigram (groups_trigram, rowid, display_name_folded)
    VALUES ('delete', old.rowid, old.display_name_folded);
END;
CREATE TRIGGER groups_trigram_update AFTER UPDATE OF display_name_folded ON groups BEGIN
    INSERT INTO groups_trigram (groups_trigram, rowid, display_name_folded)
    VALUES ('delete', old.rowid, old.display_name_folded);
    INSERT INTO groups_trigram (rowid, display_name_folded) VALUES (new.rowid, new.display_name_folded);
END;

CREATE VIRTUAL TABLE user_emails_trigram USING fts5(
    value_folded, content = 'user_emails', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TRIGGER user_emails_trigram_insert AFTER INSERT ON user_emails BEGIN
    INSERT INTO user_emails_trigram (rowid, value_folded) VALUES (new.rowid, new.value_folded);
END;
CREATE TRIGGER user_emails_trigram_delete AFTER DELETE ON user_emails BEGIN
    INSERT INTO user_emails_trigram (user_emails_trigram, rowid, value_folded)
    VALUES ('delete', old.rowid, old.value_folded);
END;

-- Planner statistics. SQLite keeps none until ANALYZE runs, and without them it takes
-- `tenant_id = ?` for a selective condition and walks a whole tenant's index instead of the
-- trigram or unique index a filter names. These rows describe a large tenant (the shape that
-- matters); a later ANALYZE replaces them with measured ones.
ANALYZE;
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('users', 'sqlite_autoindex_users_1', '1000000 100000 1'),
    ('users', 'users_user_name', '1000000 100000 1'),
    ('users', 'users_external_id', '1000000 100000 1'),
    ('users', 'users_display_name', '1000000 100000 2'),
    ('users', 'users_created', '1000000 100000 1 1'),
    ('user_emails', 'sqlite_autoindex_user_emails_1', '2000000 200000 2 1'),
    ('user_emails', 'user_emails_value', '2000000 200000 1'),
    ('groups', 'sqlite_autoindex_groups_1', '10000 1000 1'),
    ('groups', 'groups_display_name', '10000 1000 1'),
    ('groups', 'groups_external_id', '10000 1000 1'),
    ('groups', 'groups_created', '10000 1000 1 1'),
    ('group_members', 'sqlite_autoindex_group_members_1', '1000000 100000 1000 1'),
    ('group_members', 'group_members_member', '1000000 100000 10');
ANALYZE sqlite_schema;
