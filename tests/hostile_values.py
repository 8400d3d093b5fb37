"""The hostile-value corpus: strings an attacker, a broken client or bad luck sends.

Every value goes through every operator, through paths and through tags, on SQLite,
PostgreSQL and MariaDB (``test_hostile.py``), and seeds the fuzzers (``test_fuzz_*.py``).
Families: quotes of every kind and SQL injection classics, SQL comments and statement
separators, LIKE metacharacters and escapes (zquery's own ``!`` escape included), every
C0 control character, NUL in every position, Unicode look-alikes, combining marks, zero
width and bidirectional controls, case-folding traps, astral characters, zquery's own
syntax inside a value, driver placeholders (``%s``, ``:name``, ``?``, ``$1``), numbers
that are not numbers, and very long strings.

:func:`storable` says whether a database can hold a value in a ``VARCHAR(255)`` column:
PostgreSQL text cannot hold ``\\x00`` (the compiler's rule: a value with NUL can equal no
stored value, so ``=`` is false and ``!=`` is ``IS NOT NULL``, see ``zquery/operators.py``).

>>> len(CORPUS) >= 200
True
>>> storable("a\\x00b", "postgresql"), storable("a\\x00b", "sqlite")
(False, True)
>>> list_element("a,b\\\\c")
'a\\\\,b\\\\\\\\c'
"""

from __future__ import annotations

__all__ = [
    "CORPUS",
    "FAMILIES",
    "like_literal",
    "list_element",
    "meaningful",
    "storable",
]

_QUOTES = ("'", '"', "`", "\u2018", "\u2019", "\u201c", "\u201d", "\u00ab", "\u00bb",
           "\u02bc", "\u2032", "\u2033", "\uff07", "\uff02", "\u201a", "\u201e", "\u0060",
           "\u00b4")

QUOTES = (
    *(_QUOTES),
    *(f"O{q}Brien" for q in _QUOTES),
    "''", '""', "\\'", '\\"', "'''", "'\\''", "\\\\'", "x'41'", "E'\\x41'", "$$", "$tag$x$tag$",
    "' OR '1'='1", '" OR "1"="1', "' OR 1=1 --", "') OR ('a'='a", "admin'--", "1' AND '1'='2",
    "'; DROP TABLE VmInstanceVO; --", "\"; DROP TABLE \"VmInstanceVO\"; --",
    "' UNION SELECT uuid, name FROM ZoneVO --", "' || (SELECT version()) || '",
    "1; SELECT pg_sleep(10)", "' AND SLEEP(5) AND '", "'||chr(65)||'", "N'unicode'",
)

COMMENTS = (
    "--", "-- x", "x --", "/*", "*/", "/* */", "/**/", "/*! SELECT 1 */", "a/**/b", "#", "# x",
    ";", "; ", ";;", "a;b", "; SELECT 1", "\\;", "--\n", "/*\n*/", "-- ' \" ` /*",
)

LIKE_METAS = (
    "%", "_", "%%", "__", "%_%", "\\", "\\\\", "\\%", "\\_", "\\\\%", "%\\", "_\\", "!", "!!",
    "!%", "!_", "%!", "a!b", "[a]", "[^a]", "[%]", "^", "$", "*", "?", ".*", "a|b", "(a)",
    "a\\b", "100%", "50% off", "under_score", "%a%b%c%d%e%f%", "_%_%_",
)

# Every C0 control character, DEL and the Unicode line separators, inside a word.
CONTROLS = (
    *(f"a{chr(code)}b" for code in range(1, 32)),
    "a\x7fb", "a\x85b", "a\u2028b", "a\u2029b", "\r\n", "\t", "\n", "\x0b\x0c",
)

NULS = ("\x00", "a\x00", "\x00a", "a\x00b", "\x00%", "%\x00", "\x00\x00", "'\x00'", "\x00--")

LOOK_ALIKES = (
    "\u0430dmin", "\u0455elect", "\u03bfr", "\uff53\uff45\uff4c\uff45\uff43\uff54",
    "\uff1b", "\uff0d\uff0d", "\u2215", "\u2044", "\u00a0", "\u3000", "a\u00a0b",
    "\u0391\u0392\u0393", "\u13aa", "\U0001d5ba\U0001d5bb", "\u2024\u2024",
)

COMBINING = (
    "e\u0301", "\u00e9", "E\u0301", "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307",
    "\u0301", "\u0301\u0301\u0301", "\u200b", "a\u200bb", "\u200d", "\u200c", "\ufeff",
    "\ufeffname", "\u202eevil", "\u202d", "\u2066x\u2069", "\u034f", "\ufe0f",
)

CASE_TRAPS = (
    "\u0130", "i\u0307", "\u00df", "SS", "\u1e9e", "\u03a3", "\u03c3", "\u03c2", "\u212a",
    "\u2126", "\u0131", "\ufb01", "\u01c5", "\u1f88", "\u0149",
)

ASTRAL = (
    "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1eb\U0001f1f7",
    "\U0001f44d\U0001f3fd", "\U00010348", "\U0001d518\U0001d52b\U0001d526", "\U000e0001",
    "\U0010fffd", "\ufffd", "\uffff", "\ufdd0",
)

ZQUERY_SYNTAX = (
    "a=b", "a!=b", "=", "!=", "?=", "!?=", "~=", "!~=", ">=", "<=", ">", "<", "a,b", ",", ",,",
    "\\,", "a\\,b", "is null", "not null", " is null", "null", "NULL", "=null", "&q=name=x",
    "%26q%3Dx", "+", "%2B", "%00", "%", "%zz", "vmNics.ip=1", "__systemTag__", "a.b.c",
)

PLACEHOLDERS = (
    "%s", "%s%s%s%n", "%(name)s", "%(param_1)s", ":name", ":1", ":param_1", "?", "??", "$1",
    "@@version", "@x", "{}", "{0}", "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "<script>x</script>",
    "\\N", "__[POSTCOMPILE_param_1]",
)

NOT_NUMBERS = (
    "0", "-0", "1e308", "1e-400", "NaN", "nan", "Infinity", "-inf", "0x41", "0b1", "1_000",
    "9" * 40, "-" + "9" * 40, "1.5", " 1", "1 ", "\uff11", "\u0661", "true", "TRUE", "yes",
    "2017-05-11 13:23:02", "2017-02-30", "9999-12-31T23:59:59Z", "1494508982000" + "0" * 20,
    "May 11, 2017 1:23:02 PM",
)

SPACES = ("", " ", "  ", " lead", "trail ", " both ", "\t\t", "a  b")

LONG = (
    "a" * 255, "\u00e9" * 255, "\U0001f600" * 255, "%" * 255, "_" * 255, "'" * 255,
    "a" * 256, "x" * 1000, "%_" * 2000, "\\" * 4097, "'" * 10_000, "a" * 65_000,
)

#: Families by name, for reports and targeted tests.
FAMILIES: dict[str, tuple[str, ...]] = {
    "quotes": QUOTES, "comments": COMMENTS, "like": LIKE_METAS, "controls": CONTROLS,
    "nul": NULS, "look-alikes": LOOK_ALIKES, "combining": COMBINING, "case": CASE_TRAPS,
    "astral": ASTRAL, "zquery-syntax": ZQUERY_SYNTAX, "placeholders": PLACEHOLDERS,
    "not-numbers": NOT_NUMBERS, "spaces": SPACES, "long": LONG,
}

#: Every hostile value once, in family order.
CORPUS: tuple[str, ...] = tuple(dict.fromkeys(v for family in FAMILIES.values() for v in family))

#: Words that occur in zquery's SQL whatever the value: a value equal to one is not a leak.
_SQL_WORDS = frozenset({"select", "from", "where", "and", "or", "not", "null", "like", "lower",
                        "escape", "exists", "in", "is", "as", "count", "order", "by", "limit",
                        "offset", "true", "false", "collate"})


def storable(value: str, dialect: str, *, length: int = 255) -> bool:
    """Whether *value* fits a ``VARCHAR(length)`` column of *dialect*."""
    if len(value) > length:
        return False
    return not (dialect == "postgresql" and "\x00" in value)


def meaningful(value: str) -> bool:
    """A value unusual enough that finding it in SQL text means it was pasted there."""
    stripped = value.strip()
    return len(stripped) >= 4 and stripped.lower() not in _SQL_WORDS


def list_element(value: str) -> str:
    """*value* written as one element of a ``?=`` list (``\\,`` and ``\\\\`` escapes)."""
    return value.replace("\\", "\\\\").replace(",", "\\,")


def like_literal(value: str) -> str:
    """A ``~=`` pattern matching *value* itself, in any case (``%``, ``_``, ``\\`` escaped)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
