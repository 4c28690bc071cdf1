"""One fetch from sources to a verified tree: the pipeline, its decision, staging, install,
adoption, components, the dry run, the destination lock and what killed runs leave.
"""
