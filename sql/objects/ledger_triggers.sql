-- The functions behind the ledger's triggers (the triggers themselves are in the foundation migration):
-- a statement-level check that every entry a statement touches balances and names a known entry and
-- account, and the refusal of UPDATE, DELETE and TRUNCATE on the books.
CREATE OR REPLACE FUNCTION ledger_refuse_unbalanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- Referential integrity once per statement, for each distinct entry and account it touches,
    -- instead of two foreign-key queries per line. Entries and accounts are never deleted, so
    -- checking at insert suffices. The aggregates in the LATERAL subqueries keep the planner from
    -- turning the probes into a join that would scan the whole table on every statement.
    SELECT touched.entry_id, NULL::text AS account_id INTO bad
    FROM (SELECT DISTINCT entry_id FROM new_lines) AS touched
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM journal_entries e WHERE e.entry_id = touched.entry_id) AS known
    WHERE known.n = 0
    LIMIT 1;
    IF NOT FOUND THEN
        SELECT NULL::bigint AS entry_id, touched.account_id INTO bad
        FROM (SELECT DISTINCT account_id FROM new_lines) AS touched
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM ledger_accounts a WHERE a.account_id = touched.account_id
        ) AS known
        WHERE known.n = 0
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger line refers to an unknown entry % or account %', bad.entry_id, bad.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Balance: the LATERAL sum reads each touched entry through the entry_id index, so the cost
    -- follows the statement, not the size of the ledger.
    SELECT touched.entry_id, total.amount_paise AS total INTO bad
    FROM (SELECT DISTINCT entry_id FROM new_lines) AS touched
    CROSS JOIN LATERAL (
        SELECT sum(l.amount_paise) AS amount_paise FROM ledger_lines l WHERE l.entry_id = touched.entry_id
    ) AS total
    WHERE total.amount_paise <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: its lines sum to % paise', bad.entry_id, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ledger_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; post a correcting entry instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
