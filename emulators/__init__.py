"""Loopback stand-ins for the outside services, spoken to over real HTTP by the real clients."""
