#!/usr/bin/env python3
"""Every field of every message in proto/perpgw/v1/*.proto has a comment: on its line
(`string x = 1;  // ...`) or on the line(s) right above it. The comment says what the field
means, its unit and when it is absent (README "API reference"; issue 19). Enum values, reserved
numbers and options are not fields. Exit 1 listing the fields without one.

  scripts/check-proto-comments.py [PROTO_DIR]      (default: proto/perpgw/v1 of this checkout)
"""
import glob
import os
import re
import sys

FIELD = re.compile(r"^\s*(?:optional\s+|repeated\s+)?(?:map<[^>]+>|[A-Za-z_][\w.]*)\s+"
                   r"([a-z_][a-z0-9_]*)\s*=\s*\d+\s*(?:\[[^\]]*\])?\s*;")


def uncommented(path):
    out, stack, prev_comment = [], [], False
    with open(path) as f:
        lines = f.read().splitlines()
    for n, raw in enumerate(lines, 1):
        code = raw.split("//", 1)[0]
        has_comment = "//" in raw
        stripped = raw.strip()
        # a one-line message ("message X { repeated Y y = 1; }") opens and closes on its line
        for m in re.finditer(r"\b(message|enum|service|oneof)\s+\w+\s*\{|\{|\}", code):
            tok = m.group(0)
            if tok == "}":
                if stack:
                    stack.pop()
            else:
                stack.append(m.group(1) or "block")
        in_message = "message" in stack[-1:] or (stack[-1:] == ["oneof"])
        body = re.sub(r"^.*\{", "", code) if "{" in code else code
        for part in body.split(";"):
            m = FIELD.match(part + ";")
            if m and (in_message or re.match(r"^\s*message\b", code)):
                if not (has_comment or prev_comment):
                    out.append("%s:%d: %s" % (os.path.basename(path), n, m.group(1)))
        prev_comment = stripped.startswith("//")
    return out


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "proto", "perpgw", "v1")
    files = sorted(glob.glob(os.path.join(d, "*.proto")))
    if not files:
        print("check-proto-comments: no .proto under %s" % d, file=sys.stderr)
        return 2
    missing = [m for f in files for m in uncommented(f)]
    for m in missing:
        print("field without a comment: " + m)
    print("check-proto-comments: %d files, %d fields without a comment" %
          (len(files), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
