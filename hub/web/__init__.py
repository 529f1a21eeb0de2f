"""HTTP surface: the JSON API under /api, health, and (later) the inbox pages."""
