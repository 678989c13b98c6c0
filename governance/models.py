"""Models of the governance app arrive with their issue (see DESIGN.md)."""
