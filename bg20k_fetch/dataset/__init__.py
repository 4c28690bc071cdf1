"""BG-20k as described and as verified on disk: the layout and manifests, a tree's provenance and
receipts, the pin a lab commits, split listings, the ecosystem's metadata files, and where a
tree lives.
"""
