"""Game-key suppliers: where the store buys a key when its own pool has none."""
