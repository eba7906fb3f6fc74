"""Package indexes: targets, the simple API client and its waits, attestations, a local server."""
