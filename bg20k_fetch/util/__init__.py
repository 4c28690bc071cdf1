"""Small helpers with no knowledge of BG-20k: atomic files, processes, disk space, signals, user
paths, strict YAML and dataclass parsing.
"""
