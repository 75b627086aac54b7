"""Provides the domain: checklist, session, verdict and store; no UI, no network, no hidden clock."""
