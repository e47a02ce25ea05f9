"""One-time codes: sending and checking them through Twilio Verify, under the
platform's own limits, with every send and check recorded."""
