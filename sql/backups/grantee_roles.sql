-- The roles the application's objects grant privileges to (`analyst`, say): a restore needs them to
-- exist on the target server, as roles live outside any one database.
WITH grants AS (
    SELECT (aclexplode(c.relacl)).grantee FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relacl IS NOT NULL AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
    UNION
    SELECT (aclexplode(nspacl)).grantee FROM pg_namespace
    WHERE nspacl IS NOT NULL AND nspname <> 'information_schema' AND nspname NOT LIKE 'pg\_%'
    UNION
    SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl
)
SELECT r.rolname FROM grants g JOIN pg_roles r ON r.oid = g.grantee
WHERE r.rolname <> current_user AND r.rolname NOT LIKE 'pg\_%'
ORDER BY 1
