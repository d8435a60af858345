-- The SQL twins of domain.ledger.accounts (a property test holds them to the Python): account names
-- `<type>` or `<type>:<payee_id>`, and entry idempotency keys `<kind>:<part>:<part>...`.
CREATE OR REPLACE FUNCTION payable_account(payee_type text, payee_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN payee_type || '_payable:' || payee_id;

CREATE OR REPLACE FUNCTION account_type_of(account_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN split_part(account_id, ':', 1);

CREATE OR REPLACE FUNCTION account_payee(account_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN nullif(substr(account_id, length(split_part(account_id, ':', 1)) + 2), '');

CREATE OR REPLACE FUNCTION entry_key(kind text, VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN kind || ':' || array_to_string(parts, ':');
