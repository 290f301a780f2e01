"""The directory port (where accounts and their passwords live) and its implementations."""
