"""The dependency lock: one resolution of every dependency (transitive ones included, with hashes),
written as the requirement files each consumer installs from. `make lock` refreshes them all
(``python -m tools.lock``)."""
