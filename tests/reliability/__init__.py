"""Reliability and security tests: kills, disk faults, two instances, tampering, bad input."""
