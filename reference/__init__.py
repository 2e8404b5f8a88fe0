"""The reference numpy neural-network library: the kata's single source of truth.

Exercise modules mark what a learner writes with ``# BEGIN SOLUTION`` / ``# END SOLUTION``;
``exercises/`` holds the same modules with those regions replaced by stubs.
"""
