# Read by Cython only (setup.py): in the compiled build, the classes the fast path uses on every
# line are extension types, their attributes typed fields rather than entries of a dict. Every
# attribute set anywhere must be declared here; plain Python ignores this file.

cdef class CompiledLaw:
    cdef public object law, info, title, version
    cdef public object boundaries, date_points, law_durations, prohibition_reads, duration_kinds
    cdef public tuple prohibitions
    cdef public frozenset capability_names, protected_names, assessment_names, safeguard_names
    cdef public frozenset requirement_names, service_names
    cdef public dict ambiguous, authorised, bulk, candidates, dormant, failed, failures
    cdef public dict fast_templates, index, intrusion, late_missing, memo, missing_cache, ordered
    cdef public dict plans, recipient_foreign, share_cacheable, share_plans, share_prohibited
    cdef public dict share_rules, share_tests, templates, threat_info
    cdef public bint compares_durations, date_matters, memo_day, reads_date, reads_service
    cdef public Py_ssize_t hits, lookups, skip_memo, next_skip


cdef class _Template:
    cdef public tuple problems, required
    cdef public frozenset reqset
    cdef public dict plain, granted, failed


cdef class _Power:
    cdef readonly str name
    cdef readonly object cites, valid, source, reads, dyn, dated
    cdef readonly frozenset requires
    cdef readonly tuple clauses, static_fields
    cdef readonly bint plain, shares
    cdef readonly _Template fixed


cdef class _Plan:
    cdef readonly bint fast, shares_only, dormant
    cdef readonly object threat, severity, intrusion, scope, cites
    cdef readonly frozenset caps
    cdef readonly tuple prohibitions, violations, steps, capabilities, share_key
