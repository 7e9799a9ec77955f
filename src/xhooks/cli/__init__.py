"""The `xhooks` command line (thin: parsing only)."""
