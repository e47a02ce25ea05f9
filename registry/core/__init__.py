"""The base every feature stands on: configuration, the database, phone numbers,
errors and their messages, translations, and the small web helpers."""
