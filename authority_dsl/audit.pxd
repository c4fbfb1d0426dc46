# Read by Cython only (setup.py): in the compiled build, `_Under` is an extension type whose
# attributes are typed fields. Every attribute it is given must be declared here; plain Python
# ignores this file.

cdef class _Under:
    cdef public dict capabilities, records, texts
    cdef public set seen
    cdef public object decision, info, label, law, outcome, title, version
