#!/usr/bin/env python3
"""Assembles libFuzzer seed corpora from tests/data/ and config/ (used by scripts/fuzz.sh).

usage: fuzz_seeds.py OUT_DIR
Writes OUT_DIR/<target>/<name> files. The codec targets read one frame per line, so each JSON
file becomes one minified line, and a top-level array also becomes one seed with an element per
line (a frame sequence: snapshot, bridging deltas, gaps)."""
import json
import os
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1])


def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


class Num(str):
    """A JSON number kept as its source text (json would print 1e-08 for 0.00000001)."""


def load(text):
    return json.loads(text, parse_float=Num, parse_int=Num)


def mini(v):
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + mini(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(mini(x) for x in v) + "]"
    return json.dumps(v)


for venue in ("aster", "backpack", "lighter"):
    for f in sorted((root / "tests/data" / venue).glob("*.json")):
        try:
            doc = load(f.read_text())
        except ValueError:
            continue
        put(f"fuzz_{venue}_codec", f.stem, mini(doc))
        if isinstance(doc, list) and doc and all(isinstance(e, (dict, list)) for e in doc):
            put(f"fuzz_{venue}_codec", f.stem + ".lines", "\n".join(mini(e) for e in doc[:200]))
        if isinstance(doc, dict) and isinstance(doc.get("frames"), list):  # recorded sequences
            put(f"fuzz_{venue}_codec", f.stem + ".frames",
                "\n".join(mini(e) for e in doc["frames"][:200]))

# Paradex: records of [uint16 LE: bit 15 = binary SBE frame, low bits = length][bytes].
def rec(data, binary):
    data = data if isinstance(data, bytes) else data.encode()
    return (len(data) | (0x8000 if binary else 0)).to_bytes(2, "little") + data


pdx = root / "tests/data/paradex"
for f in sorted(pdx.glob("*.json")):
    try:
        doc = load(f.read_text())
    except ValueError:
        continue
    put("fuzz_paradex_codec", f.stem, rec(mini(doc), False))
    if isinstance(doc, list) and doc and all(isinstance(e, (dict, list)) for e in doc):
        put("fuzz_paradex_codec", f.stem + ".seq", b"".join(rec(mini(e), False) for e in doc))
frames = {f.stem: bytes.fromhex(f.read_text().strip()) for f in sorted((pdx / "sbe").glob("*.hex"))}
for name, data in frames.items():
    put("fuzz_paradex_codec", "sbe_" + name, rec(data, True))
put("fuzz_paradex_codec", "sbe_book_sequence",
    rec(frames["book_deltas_first_snapshot_v1"], True) + rec(frames["book_delta_v1"], True) +
    rec(frames["book_delta_v1"], True))

for i, venue in enumerate(("aster", "backpack", "paradex")):  # fuzz_replay's kVenues order
    for f in sorted((root / "tests/data/replay").glob(f"{venue}_*.jsonl")):
        put("fuzz_replay", f.stem, bytes([i]) + f.read_bytes())

for f in sorted((root / "config").glob("*.yaml")):
    put("fuzz_config", f.stem, f.read_bytes())

decimals = ["0", "1", "-1", "123.456", "0.00000001", "1e-5", "1.5E3", "+5.", "-0.0",
            "9223372036854775807", "0.000000000000000001", "99999.99", "1000"]
for i, a in enumerate(decimals):
    b = decimals[(i * 7 + 3) % len(decimals)]
    put("fuzz_decimal", f"d{i}", bytes([i * 23 % 256]) + f"{a}\n{b}".encode())
# Regression: a + b fits int64 at scale 9 but a itself does not, so b's inverse overflows.
put("fuzz_decimal", "inverse_overflow", bytes([215]) + b"-13366066666\n6666833310.000000003")


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


seen = set()
for venue in ("paradex", "lighter"):
    for f in sorted((root / "tests/data" / venue / "vectors").glob("*.json")):
        for s in strings(json.loads(f.read_text())):
            if s not in seen and len(s) < 4096 and len(seen) < 300:
                seen.add(s)
                put("fuzz_signing_parsers", f"s{len(seen)}", s)
print(f"fuzz seeds in {out}: " + ", ".join(
    f"{d.name} {len(list(d.iterdir()))}" for d in sorted(out.iterdir()) if d.is_dir()))
