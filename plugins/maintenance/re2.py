"""Alertmanager's regex syntax (Go's ``regexp/syntax``, RE2), checked in Python without compiling anything.

Alertmanager 0.25 compiles a silence's regex matchers with Go's ``regexp``:
it accepts ``\\p{Greek}``, ``\\pL``, ``[[:alpha:]]``, ``\\z``, ``\\Q...\\E`` and
``(?U)``, which Python's ``re`` refuses, and refuses ``\\Z``, look-arounds,
back-references, ``a**``, ``x{1001}`` and capture groups nested 1000 deep,
which Python accepts. :func:`check` follows Go's parser (one pass, no
recursion, so no input can raise RecursionError) and raises :class:`RE2Error`
with Go's own message (``invalid escape sequence: `\\Z```), or returns whether
the regex matches the empty string (what Alertmanager's "at least one matcher
must not match the empty string" rule needs).

Every case is checked against the real Alertmanager in
``tests/adversarial/test_maintenance_re2.py``. Unicode names are those of the Go release
the Debian/upstream 0.25 binaries were built with (Unicode 13).
"""

from __future__ import annotations

#: Go's limits (regexp/syntax): repeat counts, and the height of the parsed tree
MAX_REPEAT = 1000
MAX_HEIGHT = 1000

#: ``\\pX`` / ``\\p{Name}``: Go's unicode.Categories and unicode.Scripts (Unicode 13), and "Any"
CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs Any".split())
SCRIPTS = frozenset("""
Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki Bopomofo
Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common
Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic
Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo
Hatran Hebrew Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada
Katakana Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu
Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek
Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nandinagari
New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic
Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa
Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian
Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangut Telugu
Thaana Thai Tibetan Tifinagh Tirhuta Ugaritic Vai Wancho Warang_Citi Yezidi Yi Zanabazar_Square
""".split())
#: ``[[:name:]]`` and ``[[:^name:]]`` inside a bracket expression
POSIX_CLASSES = frozenset("alnum alpha ascii blank cntrl digit graph lower print punct space upper word xdigit".split())

_HEX = "0123456789abcdefABCDEF"
_OCTAL = "01234567"
_PERL_CLASSES = "dDsSwW"
_CONTROL_ESCAPES = "afnrtv"
_FLAGS = "imsU"
_MAX_RUNE = 0x10FFFF


class RE2Error(ValueError):
    """A regex Go's parser refuses; ``str()`` is Go's own message (``missing closing ): `(a```)."""

    def __init__(self, code: str, expr: str):
        self.code = code
        self.expr = expr
        super().__init__(f"{code}: `{expr}`")


def _isalnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class _Node:
    """What the checks need of a parsed subexpression: does it match "", the height of Go's tree, and the
    smallest budget for which Go's repeatIsValid holds (``need``). ``literal``: a run of plain characters
    (Go merges them into one node)."""

    __slots__ = ("nullable", "height", "need", "literal")

    def __init__(self, nullable: bool, height: int = 1, need: int = 0, literal: int = 0):
        self.nullable = nullable
        self.height = height
        self.need = need
        self.literal = literal


class _Frame:
    """One open group (or the whole expression): finished alternatives and the current concatenation."""

    __slots__ = ("capture", "alternatives", "items", "start")

    def __init__(self, capture: bool, start: int):
        self.capture = capture
        self.alternatives: list[_Node] = []
        self.items: list[_Node] = []
        self.start = start

    def concat(self) -> _Node:
        items = self.items
        if not items:
            return _Node(True)
        if len(items) == 1:
            return items[0]
        return _Node(all(x.nullable for x in items), 1 + max(x.height for x in items), max(x.need for x in items))

    def close(self) -> _Node:
        alternatives = [*self.alternatives, self.concat()]
        if len(alternatives) == 1:
            return alternatives[0]
        return _Node(any(x.nullable for x in alternatives), 1 + max(x.height for x in alternatives),
                     max(x.need for x in alternatives))


def check(pattern: str) -> bool:
    """Raise :class:`RE2Error` if Alertmanager (Go's regexp) would refuse ``pattern``; else return whether it
    matches the empty string."""
    return _Parser(pattern).parse().nullable


class _Parser:
    def __init__(self, pattern: str):
        self.s = pattern
        self.n = len(pattern)

    # ------------------------------------------------------------ helpers
    def _add(self, frame: _Frame, node: _Node) -> None:
        if node.height > MAX_HEIGHT:
            raise RE2Error("expression nests too deeply", self.s)
        frame.items.append(node)

    def _literal(self, frame: _Frame) -> None:
        last = frame.items[-1] if frame.items else None
        if last is not None and last.literal:
            last.literal += 1  # Go merges a run of literal characters into one node
        else:
            frame.items.append(_Node(False, literal=1))

    def parse(self) -> _Node:
        s, n = self.s, self.n
        stack = [_Frame(False, 0)]
        i = 0
        last_repeat = -1  # where the previous token started, if it was a repetition: a** is an error in Go
        while i < n:
            frame = stack[-1]
            ch = s[i]
            repeat = -1
            if ch == "(":
                if s.startswith("(?", i):
                    i = self._perl_group(stack, i)
                else:
                    stack.append(_Frame(True, i))
                    i += 1
            elif ch == "|":
                frame.alternatives.append(frame.concat())
                frame.items = []
                i += 1
            elif ch == ")":
                if len(stack) == 1:
                    raise RE2Error("unexpected )", s)
                done = stack.pop()
                node = done.close()
                if done.capture:
                    node = _Node(node.nullable, node.height + 1, node.need)
                elif node.literal:  # a literal run in (?:...) stays one node, but no longer merges with neighbours
                    node = _Node(False, node.height, node.need)
                self._add(stack[-1], node)
                i += 1
            elif ch in "^$":
                self._add(frame, _Node(True))
                i += 1
            elif ch == ".":
                self._add(frame, _Node(False))
                i += 1
            elif ch == "[":
                i = self._bracket(i)
                self._add(frame, _Node(False))
            elif ch in "*+?":
                start = i
                i += 1
                if i < n and s[i] == "?":  # non-greedy
                    i += 1
                self._repeat(frame, 0 if ch != "+" else 1, -1 if ch != "?" else 1, s[start:i], s[last_repeat:i] if last_repeat >= 0 else "")
                repeat = start
            elif ch == "{":
                parsed = self._braces(i)
                if parsed is None:  # not a repeat: a literal {
                    self._literal(frame)
                    i += 1
                else:
                    low, high, end = parsed
                    if low > MAX_REPEAT or high > MAX_REPEAT or 0 <= high < low:
                        raise RE2Error("invalid repeat count", s[i:end])
                    if end < n and s[end] == "?":
                        end += 1
                    self._repeat(frame, low, high, s[i:end], s[last_repeat:end] if last_repeat >= 0 else "")
                    repeat = i
                    i = end
            elif ch == "\\":
                i = self._escape(frame, i)
            else:
                self._literal(frame)
                i += 1
            last_repeat = repeat
        if len(stack) > 1:
            raise RE2Error("missing closing )", s)
        return stack[0].close()

    def _repeat(self, frame: _Frame, low: int, high: int, text: str, stacked: str) -> None:
        if stacked:
            raise RE2Error("invalid nested repetition operator", stacked)
        if not frame.items:
            raise RE2Error("missing argument to repetition operator", text)
        sub = frame.items[-1]
        if sub.literal > 1:  # the operator applies to the last character of a literal run only
            sub.literal -= 1
            sub = _Node(False, literal=1)
            frame.items.append(sub)
        need = sub.need
        if text[0] == "{":  # Go's repeatIsValid: nested counts multiply, at most 1000 copies of the innermost thing
            m = high if high >= 0 else low
            if high == 0:
                need = 0
            elif m > 0:
                need = min(m * max(1, sub.need), MAX_REPEAT + 1)
            if (low >= 2 or high >= 2) and need > MAX_REPEAT:
                raise RE2Error("invalid repeat count", text)
        node = _Node(low == 0 or sub.nullable, sub.height + 1, need)
        frame.items[-1] = node
        if node.height > MAX_HEIGHT:
            raise RE2Error("expression nests too deeply", self.s)

    def _braces(self, i: int) -> tuple[int, int, int] | None:
        """``{n}``, ``{n,}``, ``{n,m}`` at ``i``: (low, high or -1, index after ``}``); None when not a repeat
        (Go then reads the ``{`` as a literal). A count too large for Go is -2 (an invalid count)."""
        s = self.s
        low, j = self._int(i + 1)
        if low is None:
            return None
        if j < self.n and s[j] == "}":
            return low, low, j + 1
        if j >= self.n or s[j] != ",":
            return None
        j += 1
        if j < self.n and s[j] == "}":
            return low, -1, j + 1
        high, j = self._int(j)
        if high is None or j >= self.n or s[j] != "}":
            return None
        return low, high, j + 1

    def _int(self, i: int) -> tuple[int | None, int]:
        s, n = self.s, self.n
        j = i
        while j < n and s[j] in "0123456789":
            j += 1
        digits = s[i:j]
        if not digits or (len(digits) >= 2 and digits[0] == "0"):  # Go refuses leading zeros
            return None, i
        return (int(digits) if len(digits) <= 8 else MAX_REPEAT + 1), j

    # ------------------------------------------------------------ (? ... )
    def _perl_group(self, stack: list[_Frame], i: int) -> int:
        s, n = self.s, self.n
        if n - i > 4 and s[i + 2] == "P" and s[i + 3] == "<":
            end = s.find(">", i)
            if end < 0:
                raise RE2Error("invalid named capture", s[i:])
            name = s[i + 4:end]
            if not name or not all(c == "_" or _isalnum(c) for c in name):
                raise RE2Error("invalid named capture", s[i:end + 1])
            stack.append(_Frame(True, i))
            return end + 1
        j = i + 2
        negated = saw_flag = False
        while j < n:
            c = s[j]
            j += 1
            if c in _FLAGS:
                saw_flag = True
            elif c == "-":
                if negated:
                    break
                negated, saw_flag = True, False
            elif c in ":)":
                if negated and not saw_flag:
                    break
                if c == ":":
                    stack.append(_Frame(False, i))
                return j  # "(?i)": flags only, no node
            else:
                break
        raise RE2Error("invalid or unsupported Perl syntax", s[i:j])

    # ------------------------------------------------------------ escapes
    def _escape(self, frame: _Frame, i: int) -> int:
        s, n = self.s, self.n
        if i + 1 >= n:
            raise RE2Error("trailing backslash at end of expression", "")
        c = s[i + 1]
        if c in "AzbB":
            self._add(frame, _Node(c != "b"))  # on "", only \b fails
            return i + 2
        if c == "Q":
            end = s.find("\\E", i + 2)
            text = s[i + 2:] if end < 0 else s[i + 2:end]
            for _ in text:
                self._literal(frame)
            return n if end < 0 else end + 2
        if c in "pP":
            j = self._unicode_class(i)
            self._add(frame, _Node(False))
            return j
        if c in _PERL_CLASSES:
            self._add(frame, _Node(False))
            return i + 2
        j = self._escape_char(i)
        self._literal(frame)
        return j

    def _escape_char(self, i: int) -> int:
        """One escaped character at ``i`` (a backslash): the index after it, or RE2Error like Go's parseEscape."""
        s, n = self.s, self.n
        if i + 1 >= n:
            raise RE2Error("trailing backslash at end of expression", "")
        c = s[i + 1]
        j = i + 2
        if c.isascii() and not _isalnum(c):
            return j  # escaped punctuation is itself (and \_ too)
        if c in "1234567" and j < n and s[j] in _OCTAL or c == "0":
            k = j
            while k < n and k < j + 2 and s[k] in _OCTAL:
                k += 1
            return k
        if c == "x" and j < n:
            if s[j] == "{":
                k = j + 1
                value = 0
                while k < n and s[k] != "}":
                    if s[k] not in _HEX:
                        raise RE2Error("invalid escape sequence", s[i:k + 1])
                    value = value * 16 + int(s[k], 16)
                    if value > _MAX_RUNE:
                        raise RE2Error("invalid escape sequence", s[i:k + 1])
                    k += 1
                if k >= n or k == j + 1:
                    raise RE2Error("invalid escape sequence", s[i:k + 1])
                return k + 1
            if j + 1 < n and s[j] in _HEX and s[j + 1] in _HEX:
                return j + 2
            raise RE2Error("invalid escape sequence", s[i:j + 2])
        if c in _CONTROL_ESCAPES:
            return j
        raise RE2Error("invalid escape sequence", s[i:j])

    def _unicode_class(self, i: int) -> int:
        """``\\pL``, ``\\p{Greek}``, ``\\P{^Greek}`` at ``i``: the index after it."""
        s, n = self.s, self.n
        if i + 2 < n and s[i + 2] == "{":
            end = s.find("}", i)
            if end < 0:
                raise RE2Error("invalid character class range", s[i:])
            name, j = s[i + 3:end], end + 1
        else:
            name, j = s[i + 2:i + 3], i + 3
        if name.startswith("^"):
            name = name[1:]
        if name not in CATEGORIES and name not in SCRIPTS:
            raise RE2Error("invalid character class range", s[i:j])
        return min(j, n)

    # ------------------------------------------------------------ [ ... ]
    def _bracket(self, i: int) -> int:
        """A bracket expression starting at ``i``: the index after its ``]``."""
        s, n = self.s, self.n
        j = i + 1
        if j < n and s[j] == "^":
            j += 1
        first = True
        while j >= n or s[j] != "]" or first:
            first = False
            if j >= n:
                raise RE2Error("missing closing ]", s[i:])
            if s.startswith("[:", j) and n - j > 2:
                end = s.find(":]", j + 2)
                if end >= 0:
                    name = s[j + 2:end]
                    if name.removeprefix("^") not in POSIX_CLASSES:
                        raise RE2Error("invalid character class range", s[j:end + 2])
                    j = end + 2
                    continue
            if s.startswith("\\p", j) or s.startswith("\\P", j):
                j = self._unicode_class(j)
                continue
            if s.startswith("\\", j) and j + 1 < n and s[j + 1] in _PERL_CLASSES:
                j += 2
                continue
            start = j
            lo, j = self._class_char(j, i)
            if j + 1 < n and s[j] == "-" and s[j + 1] != "]":
                hi, j = self._class_char(j + 1, i)
                if hi < lo:
                    raise RE2Error("invalid character class range", s[start:j])
        return j + 1

    def _class_char(self, j: int, class_start: int) -> tuple[int, int]:
        """One character of a bracket expression at ``j``: (its code point, the index after it)."""
        s = self.s
        if j >= self.n:
            raise RE2Error("missing closing ]", s[class_start:])
        if s[j] != "\\":
            return ord(s[j]), j + 1
        end = self._escape_char(j)
        return _escaped_value(s[j:end]), end


def _escaped_value(escape: str) -> int:
    """The code point of an escape :meth:`_Parser._escape_char` accepted (``\\x{41}``, ``\\101``, ``\\n``, ``\\-``)."""
    c = escape[1]
    if c == "x":
        digits = escape[3:-1] if escape[2] == "{" else escape[2:]
        return int(digits, 16)
    if c in _OCTAL:
        return int(escape[1:], 8)
    if c in _CONTROL_ESCAPES:
        return {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}[c]
    return ord(c)
