"""What several test modules share: example data and its expected runs, loopback servers, builders.

No test module imports another; what two of them need lives here.
"""
