"""Payee statements: what a seller or scout was owed over a range of IST days, line by line, from the
ledger and the subledger under it (`rules` the period, kinds and totals; `store` the one query;
`render` the JSON document, CSV and HTML made from it)."""
