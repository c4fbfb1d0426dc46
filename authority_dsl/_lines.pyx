# cython: language_level=3
"""Scans of the audit's input bytes: line ends, found with the C library's `memchr` (vectorised:
`bytes.count` and `bytes.split` test each byte in turn), and keys given twice in one JSON object."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memchr, memcmp

DEF MAX_DEPTH = 32  # objects open at once that `repeats_a_key` keeps track of
DEF MAX_KEYS = 256  # keys of the objects open at once


def count_lines(bytes data not None) -> int:
    """`data.count(b"\\n")`."""
    cdef const char* at = PyBytes_AS_STRING(data)
    cdef const char* end = at + PyBytes_GET_SIZE(data)
    cdef Py_ssize_t count = 0
    with nogil:
        while True:
            at = <const char*>memchr(at, 10, <size_t>(end - at))
            if at == NULL:
                break
            count += 1
            at += 1
    return count


def split_lines(bytes data not None) -> list:
    """`data.split(b"\\n")`."""
    cdef const char* start = PyBytes_AS_STRING(data)
    cdef const char* end = start + PyBytes_GET_SIZE(data)
    cdef const char* at
    cdef list parts = []
    while True:
        at = <const char*>memchr(start, 10, <size_t>(end - start))
        if at == NULL:
            break
        parts.append(PyBytes_FromStringAndSize(start, at - start))
        start = at + 1
    parts.append(PyBytes_FromStringAndSize(start, end - start))
    return parts


def repeats_a_key(bytes data not None) -> bool:
    """Whether an object of the JSON text `data` may give a key twice: True when two keys of one
    object are the same bytes, when a key holds an escape (equal keys can be spelt differently:
    `lines.repeated_key` compares them decoded), or when objects nest deeper or hold more keys
    than this scan keeps track of; False otherwise. One pass, without decoding. On text that is
    not JSON, either answer: its decoding refuses it anyway."""
    cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t i = 0, j, k, start, length, keys = 0
    cdef Py_ssize_t first[MAX_DEPTH]  # for each open object, the index of its first key
    cdef Py_ssize_t key_at[MAX_KEYS]
    cdef Py_ssize_t key_length[MAX_KEYS]
    cdef int depth = 0
    cdef bint escaped
    cdef unsigned char c
    while i < n:
        c = s[i]
        if c == 34:  # a string: a key if a colon follows it
            i += 1
            start = i
            escaped = False
            while i < n:
                c = s[i]
                if c == 34:
                    break
                if c == 92:
                    escaped = True
                    i += 2
                else:
                    i += 1
            if i >= n:
                return False  # unterminated: not JSON
            length = i - start
            i += 1
            j = i
            while j < n and (s[j] == 32 or s[j] == 9 or s[j] == 10 or s[j] == 13):
                j += 1
            if j < n and s[j] == 58 and depth > 0:
                if escaped or keys == MAX_KEYS:
                    return True
                for k in range(first[depth - 1], keys):
                    if key_length[k] == length and memcmp(s + key_at[k], s + start, length) == 0:
                        return True
                key_at[keys] = start
                key_length[keys] = length
                keys += 1
            continue
        if c == 123:  # {
            if depth == MAX_DEPTH:
                return True
            first[depth] = keys
            depth += 1
        elif c == 125:  # }: its keys are forgotten
            if depth > 0:
                depth -= 1
                keys = first[depth]
        i += 1
    return False


def deeper_than(bytes data not None, Py_ssize_t limit) -> bool:
    """Whether the JSON text `data` opens more than `limit` arrays or objects inside one another
    (brackets inside strings do not count; an unclosed one does)."""
    cdef const unsigned char* s = <const unsigned char*>PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t i = 0, depth = 0
    cdef unsigned char c
    while i < n:
        c = s[i]
        if c == 34:  # a string: skipped to its closing quote
            i += 1
            while i < n:
                c = s[i]
                if c == 34:
                    break
                i += 2 if c == 92 else 1
        elif c == 91 or c == 123:
            depth += 1
            if depth > limit:
                return True
        elif c == 93 or c == 125:
            depth -= 1
        i += 1
    return False
