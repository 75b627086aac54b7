"""Provides the Textual app."""
