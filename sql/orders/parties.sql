-- Why an order could not be created for these parties: each party's role and status, or NULL.
-- :buyer_id   text
-- :seller_id  text
SELECT (SELECT role || ':' || status FROM users WHERE user_id = :buyer_id) AS buyer,
       (SELECT role || ':' || status FROM users WHERE user_id = :seller_id) AS seller
