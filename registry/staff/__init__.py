"""Complaint staff: audit of what staff looked at, revealed and did."""
