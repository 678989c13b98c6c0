"""Models of the defection app arrive with their issue (see DESIGN.md)."""
