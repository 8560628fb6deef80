"""ipledge: patents into finance for China's SMEs."""

__version__ = "0.1.0"
