"""Provides the app's widgets: the checklist tree, the item detail and the session header."""
