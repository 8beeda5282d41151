"""Signed outbound webhooks to the studio's own systems (order.fulfilled, key.delivered,
order.refunded, stock.low): an outbox written with the change, delivered by a job."""
