-- Work for the payout status run: stored RazorpayX webhooks not yet applied, and payouts processing
-- for longer than :poll_after_s seconds without news.
SELECT (SELECT count(*) FROM webhook_events WHERE source = 'razorpayx' AND verdict = 'accepted'
                                              AND processed_at IS NULL)
     + (SELECT count(*) FROM payouts WHERE status = 'processing'
                                       AND updated_at <= now() - make_interval(secs => :poll_after_s))
