"""Complaints and the call log as people read it: the parties' call history and
complaints, staff search, and the JSON API over call records."""
