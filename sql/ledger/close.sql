-- Close the ledger through entry :mark: for every account with lines since the previous close, its
-- movement and closing balance (its previous closing balance plus the movement), and the same per
-- account type. Reading a balance is then its latest closing plus the lines after the last close.
-- Run under the close-writing lock, with :mark above the previous close's (domain.ledger.closing).
-- :day   date, the partition day that closes
-- :mark  bigint, the highest entry id every posting below which has committed
WITH previous AS (
    SELECT close_id, through_entry_id FROM ledger_closes ORDER BY close_id DESC LIMIT 1
),
new_close AS (
    INSERT INTO ledger_closes (close_date, through_entry_id) VALUES (:day, :mark) RETURNING close_id
),
moved AS (
    SELECT l.account_id, sum(l.amount_paise) AS movement_paise
    FROM ledger_lines l
    WHERE l.entry_id > coalesce((SELECT through_entry_id FROM previous), 0) AND l.entry_id <= :mark
    GROUP BY l.account_id
),
balances AS (
    INSERT INTO closing_balances (account_id, close_id, movement_paise, balance_paise)
    SELECT m.account_id, n.close_id, m.movement_paise, coalesce(last.balance_paise, 0) + m.movement_paise
    FROM moved m
    CROSS JOIN new_close n
    LEFT JOIN LATERAL (
        SELECT b.balance_paise FROM closing_balances b WHERE b.account_id = m.account_id
        ORDER BY b.close_id DESC LIMIT 1
    ) AS last ON true
),
type_movement AS (
    SELECT account_type_of(account_id) AS account_type, sum(movement_paise) AS movement_paise
    FROM moved GROUP BY 1
),
totals AS (
    INSERT INTO closing_totals (close_id, account_type, movement_paise, balance_paise)
    SELECT n.close_id, t.account_type, coalesce(tm.movement_paise, 0),
           coalesce(pt.balance_paise, 0) + coalesce(tm.movement_paise, 0)
    FROM new_close n
    CROSS JOIN (
        SELECT account_type FROM closing_totals WHERE close_id = (SELECT close_id FROM previous)
        UNION SELECT account_type FROM type_movement
    ) AS t
    LEFT JOIN type_movement tm ON tm.account_type = t.account_type
    LEFT JOIN closing_totals pt ON pt.close_id = (SELECT close_id FROM previous) AND pt.account_type = t.account_type
    RETURNING account_type, movement_paise, balance_paise
)
SELECT (SELECT close_id FROM new_close) AS close_id, (SELECT count(*) FROM moved) AS accounts_moved,
       coalesce(jsonb_object_agg(account_type, jsonb_build_object('movement_paise', movement_paise,
                                                                   'balance_paise', balance_paise)), '{}')
           AS trial_balance
FROM totals
