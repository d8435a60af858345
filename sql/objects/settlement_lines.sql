-- What each settled order earned its seller: its settlement (the day it became payable, the payee
-- item it went into) with its capture's gross, fees and net. Read by analysts' tables and people.
CREATE OR REPLACE VIEW settlement_lines AS
SELECT s.order_id, s.settlement_date, s.seller_id, c.gross_paise, c.platform_fee_paise, c.gateway_fee_paise,
       c.seller_net_paise, c.fee_schedule_id, s.payee_item_key, s.created_at
FROM settlements s JOIN captures c ON c.order_id = s.order_id;
