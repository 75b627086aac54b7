"""Provides reports (markdown, JSON, JUnit) and markdown checklist import."""
