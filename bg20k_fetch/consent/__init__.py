"""The consent trail: the agreement as shipped, a person's acceptance record, the write-ahead trail
of changes, the store that keeps them, and the gate a fetch passes.
"""
