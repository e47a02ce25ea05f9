"""Users (merchant owners and staff), login sessions and API tokens."""
