-- Of the roles a backup grants to, those the target server does not have.
-- :roles  text[]
SELECT name FROM unnest(CAST(:roles AS text[])) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) ORDER BY 1
