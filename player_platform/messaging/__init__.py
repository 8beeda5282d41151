"""The inbox: messages to players (from admins, season rewards, refund and moderation notices)
with claimable attachments and per-player read, claim and delete state."""
