"""Development only: what the tests and the benchmarks both stand on, imported openly by both.

A loopback Entra stand-in (fake_entra), Entra-shaped token minting (tokens), the service built as the function
builds it on chosen settings and clocks (service), and the registry of every token and secret minted, which the
tests' log-hygiene check scans for (leak_registry). Never part of the function's deployment (.funcignore).
"""
