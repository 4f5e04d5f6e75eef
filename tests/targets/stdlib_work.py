"""A real stdlib workload on fixed data: json round trips (with an
indent, so the pure-Python encoder runs, and a default= hook), re with
callbacks, difflib on two fixed texts, textwrap."""

import difflib
import json
import re
import textwrap

RECORDS = [
    {"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 3), "t%d" % (i % 5)],
     "price": round(i * 1.25, 2), "active": i % 2 == 0, "meta": {"rank": i * 7 % 11}}
    for i in range(40)
]

TEXT_A = """The profiler records every call and return.
It attributes time to the function that was running.
Builtins are recorded as their own entries.
Generators count a call on every resume.
Threads each get their own stack.""".splitlines()

TEXT_B = """The profiler records every call and every return.
It attributes time to the function which was running.
Builtins are recorded as separate entries.
Threads each get their own stack.
Coroutines behave like generators.""".splitlines()

WORD = re.compile(r"[A-Za-z]+")


class Money:
    def __init__(self, cents):
        self.cents = cents


def encode_default(obj):
    if isinstance(obj, Money):
        return {"cents": obj.cents}
    raise TypeError(type(obj).__name__)


def shout(match):
    return match.group(0).upper()


def main():
    data = list(RECORDS)
    data.append({"money": [Money(5), Money(7)]})
    text = json.dumps(data, indent=2, sort_keys=True, default=encode_default)
    back = json.loads(text)
    compact = json.dumps(back, separators=(",", ":"))
    words = WORD.findall(" ".join(TEXT_A))
    loud = WORD.sub(shout, TEXT_B[0])
    diff = list(difflib.unified_diff(TEXT_A, TEXT_B, "a", "b", lineterm=""))
    ratio = difflib.SequenceMatcher(None, " ".join(TEXT_A), " ".join(TEXT_B)).ratio()
    wrapped = textwrap.wrap(" ".join(TEXT_B), width=30)
    return len(text), len(compact), len(words), loud, len(diff), round(ratio, 4), len(wrapped)


if __name__ == "__main__":
    print(main())
