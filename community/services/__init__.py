"""Writes of the community app. Import the functions from their modules:

- ``accounts``       sign up, API tokens
- ``threads``        open a thread about some teachings
- ``posts``          post in a thread, taking a position
- ``resolutions``    a moderator resolves a thread (prefer, precedence, scope, merge, dismiss)
- ``appeals``        an author appeals a resolution that retired their teaching
- ``notifications``  the in-app inbox
- ``credit``         count which members' teachings answered recent predictions
- ``audit``          the log of moderators' decisions

``user_create`` and ``token_obtain`` stay importable from here for older callers.
"""

from community.services.accounts import token_obtain, user_create

__all__ = ["token_obtain", "user_create"]
