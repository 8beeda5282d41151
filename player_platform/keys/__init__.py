"""The game-key store: pools of keys sealed at rest, claimed once, delivered to their buyer."""
