-- The SQL twin of domain.money.bps_of: round_half_up(amount * bps / 10000) for amount >= 0.
CREATE OR REPLACE FUNCTION bps_of(amount_paise bigint, bps integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (amount_paise * bps + 5000) / 10000;
