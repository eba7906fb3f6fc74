"""GitHub as the real gh meets it, on 127.0.0.1: a small state behind its REST API, checked."""
