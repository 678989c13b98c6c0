"""Models of the budgets app arrive with their issue (see DESIGN.md)."""
