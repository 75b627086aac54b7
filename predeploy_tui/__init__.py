"""Provides predeploy: a terminal app for pre-deployment checklists with recorded evidence."""

__version__ = "0.1.0"
