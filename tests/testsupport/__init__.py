"""Support shared by every test folder: one fake clock and one way to find and adapt the official spec.

On the test path through `pythonpath` in pyproject.toml, so any test imports `testsupport.clock` or
`testsupport.spec` by an unambiguous name (a conftest is never imported from: with several test folders
collected together, `conftest` names whichever was loaded first).
"""
