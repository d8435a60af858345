-- The nightly steps to replay, in the order they ran, from the live books' own stamps: each step's
-- rows carry the time of its transaction (`created_at`), and each night ends with its close.
-- A capture run is replayed as of its time (the confirmations it could see); settlements and bounties
-- read no clock, so they are replayed where the live ones wrote rows and again at each close, which
-- finds what a night that wrote nothing should have written. Both are idempotent per day.
-- A capture run that captured nothing left no stamp and is not replayed.
WITH steps AS (
    SELECT 'captures' AS step, capture_date AS day, created_at AS as_of, 0 AS rank FROM public.captures
    UNION
    SELECT 'settlements', settlement_date, created_at, 1 FROM public.settlement_groups
    UNION
    SELECT 'settlements', close_date, closed_at, 1 FROM public.ledger_closes
    UNION
    SELECT 'bounties', settlement_date, created_at, 2 FROM public.settlement_groups
    UNION
    SELECT 'bounties', close_date, closed_at, 2 FROM public.ledger_closes
    UNION
    SELECT 'bounties', earned_date, created_at, 2 FROM public.bounties
)
SELECT step, day, as_of FROM steps ORDER BY as_of, rank, day
