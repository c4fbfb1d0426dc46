"""authority-dsl: laws that grant powers by threat, in technology-neutral terms, made executable."""

__version__ = "0.1.0"


# The modules that setup.py compiles with Cython when it can (the audit's per-line path).
COMPILABLE = ("operation", "decision", "engine.compiled", "audit")
# C extensions written for Cython (`.pyx`), each with a plain-Python stand-in beside it.
NATIVE = ("_lines",)


def compiled() -> tuple[str, ...]:
    """Those of COMPILABLE and NATIVE that run here as compiled extension modules: all of them in
    a build from `pip install .` with a C compiler at hand, none in a plain-Python install."""
    import importlib.machinery
    import importlib.util

    found = []
    for name in COMPILABLE + NATIVE:
        spec = importlib.util.find_spec(f"{__name__}.{name}")
        if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            found.append(name)
    return tuple(found)


def build_kind() -> str:
    """In a word or two, how this install runs: "compiled", "plain Python" (slower: some 75% more
    time per line of an audit), or "partly compiled"."""
    names = compiled()
    if not names:
        return "plain Python"
    return "compiled" if len(names) == len(COMPILABLE + NATIVE) else "partly compiled"


def build() -> str:
    """How this install runs: which modules are compiled, or plain Python."""
    names = compiled()
    return f"compiled: {', '.join(names)}" if names else "plain Python"
