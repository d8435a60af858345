"""Notifications: the outbox's events delivered by email and in the app, with templates, preferences
and a delivery history (DESIGN.md section 9)."""
