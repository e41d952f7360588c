"""The rules, the readers and the configuration on their own: no server, no network."""
