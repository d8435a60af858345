-- The highest entry id posted so far (read under the exclusive close lock, so every entry below it
-- has committed).
SELECT coalesce(max(entry_id), 0) FROM journal_entries
