"""The text-understanding engine: plain Python, no Django imports.

Texts in, results out; models are versioned on disk. The Django side stores
results and feeds corrections back (see docs/ARCHITECTURE.md).
"""
