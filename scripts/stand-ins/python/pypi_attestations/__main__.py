"""Stand-in for `python -m pypi_attestations sign FILE...` where Sigstore cannot be reached.

It writes what the real command writes, FILE.publish.attestation, in PEP 740's shape: an in-toto
statement of PyPI's publish predicate about FILE's name and sha256. Nothing is signed: the
certificate and the transparency entry say so. Put this folder on PYTHONPATH to use it.
"""

import base64
import hashlib
import json
import sys
from pathlib import Path


def attestation(path: Path) -> dict[str, object]:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": path.name, "digest": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}
        ],
        "predicateType": "https://docs.pypi.org/attestations/publish/v1",
        "predicate": None,
    }
    unsigned = base64.b64encode(b"stand-in: not signed").decode()
    return {
        "version": 1,
        "verification_material": {
            "certificate": unsigned,
            "transparency_entries": [{"stand-in": "no transparency log here"}],
        },
        "envelope": {
            "statement": base64.b64encode(json.dumps(statement).encode()).decode(),
            "signature": unsigned,
        },
    }


def main(argv: list[str]) -> int:
    if argv[:1] != ["sign"] or len(argv) < 2:
        print("pypi_attestations stand-in: usage: sign FILE...", file=sys.stderr)
        return 2
    for name in argv[1:]:
        path = Path(name)
        target = path.with_name(f"{path.name}.publish.attestation")
        target.write_text(json.dumps(attestation(path)), encoding="utf-8")
    return 0


sys.exit(main(sys.argv[1:]))
