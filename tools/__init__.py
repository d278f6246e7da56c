"""Measurement and test tooling that the running assistant never imports.

Benchmark, NLU and redaction evaluations, the per-message profile, the one launcher of
the three processes (shared with the live tests), the one reader of the NLU example
files and the one in-process NLU parser. Run them as `python -m tools.<name>`.
"""
