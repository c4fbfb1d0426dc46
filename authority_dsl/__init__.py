"""authority-dsl: laws that grant powers by threat, in technology-neutral terms, made executable."""

__version__ = "0.1.0"
