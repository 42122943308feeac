"""organizer: a desktop photo organizer that understands what is in its pictures."""

__version__ = "0.1.0"
