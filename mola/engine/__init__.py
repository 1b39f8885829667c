"""MOLA's engine: plain Python, no Django.

- ``schema``   typed features and labels of a space.
- ``language`` the condition language: parse, type-check, evaluate vectorised, compile to regions.
- ``learning`` turn a snapshot of teachings into a model that predicts and explains.
- ``consensus`` find contradictory teachings exactly, with witnesses; group them into threads.
"""
