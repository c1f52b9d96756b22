"""Personal data: detectors for Chinese identifiers, names and addresses, and scans of tables for them."""
