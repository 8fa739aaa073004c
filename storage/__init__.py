"""All SQL lives here: the database, its migrations and named queries."""
