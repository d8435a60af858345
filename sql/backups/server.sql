-- The server and the database a backup is taken from.
SELECT current_database() AS database_name, current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num
