"""Reads of the community app: ``threads``, ``contributors``, ``audit``, ``notifications``,
``review`` (the novice review queue) and ``teachings`` (teaching refs → teachings)."""
