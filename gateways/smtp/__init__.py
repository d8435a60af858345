"""Email over SMTP: the email channel of the notifications port, and the local sink for dev and demo."""
