"""Analysis for drafters: principles (`verify`), the semantic diff of two laws (`diff`) and lints.

Stages: vocabulary.py (what the provisions read) -> space.py (classes of operations; calendar.py
for dates and durations, witnesses.py for sets) -> verify.py and diff.py (decided with the
compiled evaluator, examples shrunk by minimise.py, search.py the seeded hypothesis fallback);
beside them structure.py (the declarations diff), lints.py and sarif.py. docs/analysis.md
explains the method.
"""
