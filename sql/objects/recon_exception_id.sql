-- The SQL twin of domain.reconciliation.rules.exception_id: the same break of the same day has the
-- same id on every re-run and every report version of that day.
CREATE OR REPLACE FUNCTION recon_exception_id(report_date date, class text, payment_type text, reference_id text,
                                              occurrence integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'rex_' || left(encode(sha256(convert_to(
        concat_ws('|', report_date::text, class, payment_type, reference_id, occurrence::text), 'UTF8')), 'hex'), 24);
