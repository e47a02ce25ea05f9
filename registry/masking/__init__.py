"""Masked numbers: the proxy pool, bindings between two parties, inbound routing."""
