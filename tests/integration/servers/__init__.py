"""Provides throwaway real servers for the integration tests, each on a free 127.0.0.1 port."""
