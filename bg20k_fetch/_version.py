"""The version, in one place: hatchling reads it for the wheel, the code imports it (reading
it from the installed metadata instead costs 50 ms of start-up)."""

__version__ = "0.2.0"
