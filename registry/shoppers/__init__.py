"""Shoppers: people identified only by a phone number they proved by code."""
