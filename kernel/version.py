"""The version of this Taptrail, stamped on exports and reports."""

__version__ = "0.1.0"
