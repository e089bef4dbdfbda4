"""The floor every other package stands on: items, errors, and the names of stats and
request-meta keys. Imports nothing of the project (checked by ``lint-imports``)."""
