-- The latest close and what it says per account type.
SELECT c.close_id, c.close_date, c.through_entry_id,
       coalesce(jsonb_object_agg(t.account_type, jsonb_build_object('movement_paise', t.movement_paise,
                                                                     'balance_paise', t.balance_paise))
                FILTER (WHERE t.account_type IS NOT NULL), '{}') AS trial_balance
FROM (SELECT * FROM ledger_closes ORDER BY close_id DESC LIMIT 1) c
LEFT JOIN closing_totals t ON t.close_id = c.close_id
GROUP BY c.close_id, c.close_date, c.through_entry_id
