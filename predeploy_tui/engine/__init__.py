"""Provides the check engine: plain asyncio, no Textual."""
