"""SQLite storage: one connection, numbered migrations, small repository classes."""
