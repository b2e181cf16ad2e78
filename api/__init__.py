"""The HTTP API of spec/CONTRACTS.md (Django REST framework): submissions, read-back, calculator."""
