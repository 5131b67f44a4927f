"""Test support: SYNTHETIC Open Targets data and a loopback fake of its GraphQL API."""
