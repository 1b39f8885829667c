"""Writes of the teaching app. Import the functions from their modules:

- ``spaces``    spaces, schemas, members
- ``concepts``, ``rules``, ``examples``  create / update / retire each kind of teaching
- ``trust``     endorse and reject proposed teachings
- ``history``   revert a teaching, roll back a member
"""
