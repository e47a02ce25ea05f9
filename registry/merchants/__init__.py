"""Stores, their contact numbers, and proving ownership of those numbers."""
