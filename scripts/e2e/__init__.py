"""`make e2e` and its reusable parts (see ``deployment``)."""
