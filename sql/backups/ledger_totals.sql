-- The general ledger in four figures: entries, lines, and the debits and credits of the lines.
SELECT (SELECT count(*) FROM journal_entries) AS journal_entries,
       count(*) AS ledger_lines,
       coalesce(sum(amount_paise) FILTER (WHERE amount_paise > 0), 0) AS debits_paise,
       coalesce(-sum(amount_paise) FILTER (WHERE amount_paise < 0), 0) AS credits_paise
FROM ledger_lines
