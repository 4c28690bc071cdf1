"""The transfer engine: HTTP, downloads with resume and retries, the shared cache, hashing, archive
checks and extraction, and the tuning variables they read.
"""
