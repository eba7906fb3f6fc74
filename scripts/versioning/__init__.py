"""Versions and the CHANGELOG: a release's version, the next one, the CHANGELOG read and written."""
