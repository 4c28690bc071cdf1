"""Object storage: opening a store, publishing a verified tree to it (lease, journal, proof of what
is ours), and verifying a published copy in place.
"""
