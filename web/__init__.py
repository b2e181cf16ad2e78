"""The coordinators' web pages: server-rendered Django views over the write services.

Views are thin: they check access through registry.access, turn a form into the document shape
the services read, and render. Every write goes through crf.services or registry.services.
"""
