"""One module per user-facing flow."""
