"""The database: engine and transactions, tables, named read queries and migrations."""
