-- One confirmation run at a time: the sensor's, a finance launch and `settle payments confirm` may
-- overlap; the second finds the lock taken and does nothing. Held until the run's lock transaction
-- ends, so a crashed run releases it with its connection.
SELECT pg_try_advisory_xact_lock(hashtext('settlement.payment_confirmation')) AS acquired
