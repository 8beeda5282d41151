"""Mail: an outbox of mails sent over SMTP by the notification_send queue, and the email-account
flows built on it (address verification, password reset)."""
