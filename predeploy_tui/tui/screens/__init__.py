"""Provides the app's screens: new session, main, plan, dialogs, sign-offs, decision."""
