"""`python -m bg20k_fetch`: the `bg20k` command."""

from __future__ import annotations

from bg20k_fetch.entry import main

if __name__ == "__main__":  # never again when a worker process imports it
    main()
