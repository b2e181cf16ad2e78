"""The HTTP API of docs/api.md (Django REST framework): submissions, read-back, calculator."""
