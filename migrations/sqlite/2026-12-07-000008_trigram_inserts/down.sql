CREATE TRIGGER users_trigram_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_trigram (rowid, user_name_folded, display_name_folded)
    VALUES (new.rowid, new.user_name_folded, new.display_name_folded);
END;
CREATE TRIGGER groups_trigram_insert AFTER INSERT ON groups BEGIN
    INSERT INTO groups_trigram (rowid, display_name_folded) VALUES (new.rowid, new.display_name_folded);
END;
CREATE TRIGGER user_emails_trigram_insert AFTER INSERT ON user_emails BEGIN
    INSERT INTO user_emails_trigram (rowid, value_folded) VALUES (new.rowid, new.value_folded);
END;
