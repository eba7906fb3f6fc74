"""PEP 740 provenance as PyPI's integrity API answers it, checked against bytes and publisher.

The answers are written here in the shape warehouse serves (`/integrity/<project>/<version>/
<file>/provenance`): a provenance object of attestation bundles, each attestation a DSSE envelope
around a base64 in-toto statement. Their certificates are placeholders: the signature is
Sigstore's to check, online (docs/releasing.md).
"""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts.artifacts import uploading, verify
from scripts.artifacts.twine_upload import (
    TRUSTED_PUBLISHING,
    Answer,
    Credentials,
    PublishError,
    attestation_of,
    sign_attestations,
)
from scripts.indexes import attestations, index_targets
from scripts.indexes.attestations import AttestationError, Publisher
from scripts.indexes.simple_pages import JSON_TYPE, parse_simple_html, parse_simple_json
from tests.helpers import RecordingIndex

WHEEL = "agentops_accelerator-1.2.3-py3-none-any.whl"
SDIST = "agentops_accelerator-1.2.3.tar.gz"
DIGEST = "ab" * 32
OURS = Publisher("acme/agentops-accelerator", ("release.yml",))


def statement(name: str = WHEEL, digest: str = DIGEST, **changes: object) -> dict[str, Any]:
    """An in-toto statement of PyPI's publish predicate about NAME with DIGEST."""
    made: dict[str, Any] = {
        "_type": attestations.STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": attestations.PUBLISH_PREDICATE,
        "predicate": None,
    }
    made.update(changes)
    return made


def provenance(
    said: dict[str, Any] | None = None,
    repository: str = "acme/agentops-accelerator",
    workflow: str = "release.yml",
) -> dict[str, Any]:
    """A provenance object with one bundle of REPOSITORY's WORKFLOW attesting SAID."""
    encoded = base64.b64encode(json.dumps(said or statement()).encode()).decode()
    return {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": {
                    "kind": "GitHub",
                    "repository": repository,
                    "workflow": workflow,
                    "environment": "pypi",
                },
                "attestations": [
                    {
                        "version": 1,
                        "verification_material": {
                            "certificate": "MIIC-placeholder",
                            "transparency_entries": [{"logIndex": "1"}],
                        },
                        "envelope": {"statement": encoded, "signature": "c2lnbmF0dXJl"},
                    }
                ],
            }
        ],
    }


def test_an_attestation_of_these_bytes_by_our_workflow_passes() -> None:
    who = attestations.check_provenance(provenance(), WHEEL, DIGEST, OURS)
    assert who == "GitHub acme/agentops-accelerator (release.yml)"
    # Without an expected publisher, any publisher's bundle is read (and still checked).
    assert "acme" in attestations.check_provenance(provenance(), WHEEL, DIGEST, None)


def _edit(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def apply(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document["attestation_bundles"][0]["attestations"][0]
        for part in parents:
            target = target[part]
        target[last] = value

    return apply


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(provenance(statement(digest="cd" * 32)), "other bytes", id="other-bytes"),
        pytest.param(provenance(statement(name=SDIST)), f"about '{SDIST}'", id="other-file"),
        pytest.param(
            provenance(statement(predicateType="https://slsa.dev/provenance/v1")),
            "not PyPI's publish",
            id="other-predicate",
        ),
        pytest.param(provenance(statement(_type="x")), "not in-toto v1", id="not-in-toto"),
        pytest.param(provenance(statement(subject=[])), "about no file", id="no-subject"),
        pytest.param(
            provenance(repository="mallory/agentops-accelerator"),
            "attested by GitHub mallory/agentops-accelerator (release.yml), not by GitHub acme",
            id="other-repository",
        ),
        pytest.param(
            provenance(workflow="anything.yml"), "(anything.yml), not by", id="other-workflow"
        ),
        pytest.param({"version": 2}, "not a version 1", id="other-version"),
        pytest.param({"version": 1, "attestation_bundles": []}, "no attestation", id="empty"),
        pytest.param(
            "<html>not json</html>", "not a version 1 PEP 740 provenance", id="not-an-object"
        ),
    ],
)
def test_a_provenance_that_does_not_vouch_for_these_bytes_is_refused(
    document: object, expected: str
) -> None:
    with pytest.raises(AttestationError, match="^" + WHEEL) as caught:
        attestations.check_provenance(document, WHEEL, DIGEST, OURS)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("envelope.statement", "%%% not base64", "without a readable in-toto statement"),
        ("verification_material.certificate", "", "without its signing certificate"),
        ("verification_material.transparency_entries", [], "in no transparency log"),
    ],
)
def test_an_attestation_missing_a_part_is_refused(path: str, value: object, expected: str) -> None:
    document = provenance()
    _edit(path, value)(document)
    with pytest.raises(AttestationError, match=expected):
        attestations.check_provenance(document, WHEEL, DIGEST, OURS)


def test_every_attestation_of_the_chosen_bundle_must_hold() -> None:
    document = provenance()
    bundle = document["attestation_bundles"][0]
    second = copy.deepcopy(bundle["attestations"][0])
    second["envelope"]["statement"] = base64.b64encode(
        json.dumps(statement(digest="cd" * 32)).encode()
    ).decode()
    bundle["attestations"].append(second)
    with pytest.raises(AttestationError, match="other bytes"):
        attestations.check_provenance(document, WHEEL, DIGEST, OURS)


def test_check_files_tells_not_served_from_not_attested() -> None:
    sums = {WHEEL: DIGEST, SDIST: "cd" * 32}
    fetched: list[str] = []

    def fetch(url: str) -> object | None:
        fetched.append(url)
        return {"https://x/w": provenance()}.get(url)

    # No provenance key at all (pypiserver, devpi): the index serves no attestations.
    none = attestations.check_files({WHEEL: None, SDIST: None}, sums, OURS, fetch)
    assert (none.served, none.attested, none.missing, fetched) == (False, {}, [], [])
    # null for the sdist: served, and the sdist is not attested; a 404 is the same.
    some = attestations.check_files({WHEEL: "https://x/w", SDIST: ""}, sums, OURS, fetch)
    assert some.served and some.missing == [SDIST]
    assert some.attested == {WHEEL: "GitHub acme/agentops-accelerator (release.yml)"}
    gone = attestations.check_files({WHEEL: "https://x/gone", SDIST: ""}, sums, OURS, fetch)
    assert gone.missing == [WHEEL, SDIST]
    assert fetched == ["https://x/w", "https://x/gone"]


@pytest.mark.parametrize("given", ["acme", "acme/", "/repo", "a/b/c"])
def test_attested_by_takes_owner_slash_repository(given: str) -> None:
    with pytest.raises(ValueError, match="OWNER/REPOSITORY"):
        attestations.publisher_from(given, ())
    assert attestations.publisher_from(None, ()) is None
    assert attestations.publisher_from(" acme/x ", ("r.yml",)) == Publisher("acme/x", ("r.yml",))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("acme/agentops", "acme/agentops"), ("/tmp/x/origin.git", None), ("", None), (None, None)],
)
def test_github_repository_names_a_publisher_only_when_it_is_owner_slash_repo(
    value: str | None, expected: str | None
) -> None:
    environ = {} if value is None else {"GITHUB_REPOSITORY": value}
    assert attestations.github_repository(environ) == expected


def test_the_listings_carry_pep_740_provenance() -> None:
    page = json.dumps(
        {
            "files": [
                {"filename": WHEEL, "url": f"../../f/{WHEEL}", "provenance": "/integrity/w"},
                {"filename": SDIST, "url": f"../../f/{SDIST}", "provenance": None},
                {"filename": "old.tar.gz", "url": "../../f/old.tar.gz"},
            ]
        }
    )
    links = parse_simple_json(page, "https://pypi.example/simple/p/")
    assert links[WHEEL].provenance == "https://pypi.example/integrity/w"
    assert links[SDIST].provenance == ""  # the index says: nothing attested
    assert links["old.tar.gz"].provenance is None  # the index says nothing
    html = (
        f'<a href="/f/{WHEEL}#sha256={DIGEST}" data-provenance="/integrity/w">{WHEEL}</a>'
        f'<a href="/f/{SDIST}">{SDIST}</a>'
    )
    links = parse_simple_html(html, "https://pypi.example/simple/p/")
    assert links[WHEEL].provenance == "https://pypi.example/integrity/w"
    assert links[SDIST].provenance is None


def _recorded_index(files: dict[str, object | None]) -> RecordingIndex:
    """An index over HTTP that answers a PEP 691 page of FILES ({name: provenance object, or
    None for `"provenance": null`}) and each provenance at its integrity URL."""
    entries, pages = [], {}
    for name, document in files.items():
        path = f"/integrity/agentops-accelerator/1.2.3/{name}/provenance"
        entries.append(
            {
                "filename": name,
                "url": f"/files/{name}",
                "hashes": {"sha256": DIGEST},
                "provenance": path if document is not None else None,
            }
        )
        if document is not None:
            pages[path] = ("application/json", json.dumps(document).encode())
    listing = json.dumps({"meta": {"api-version": "1.1"}, "files": entries}).encode()
    pages["/simple/agentops-accelerator/"] = (JSON_TYPE, listing)
    return RecordingIndex(pages=pages)


@pytest.mark.parametrize(
    ("served", "published_with", "expected", "said"),
    [
        ({WHEEL: provenance()}, "trusted-publishing", None,
         [f"attested: {WHEEL} by GitHub acme/agentops-accelerator (release.yml), for exactly "
          "these bytes"]),
        ({WHEEL: None}, "trusted-publishing",
         f"not attested: recorded has no attestation for {WHEEL}, which were published with "
         "trusted publishing", []),
        ({WHEEL: None}, "token", None,
         ["published with an API token: PEP 740 attestations come only with trusted publishing, "
          "so none are required (any served are still checked)",
          f"note: recorded has no attestation for {WHEEL}"]),
        ({WHEEL: None}, "", None, [f"note: recorded has no attestation for {WHEEL}"]),
        ({WHEEL: provenance(statement(digest="cd" * 32))}, "token", "attestation refused: ", None),
    ],
    ids=["attested", "missing-after-trusted-publishing", "missing-after-a-token-upload",
         "missing-how-unknown", "other-bytes-after-a-token-upload"],
)  # fmt: skip
def test_verify_checks_what_the_integrity_api_answers(
    served: dict[str, object | None],
    published_with: str,
    expected: str | None,
    said: list[str] | None,
) -> None:
    server = _recorded_index(served)
    heard: list[str] = []
    target = index_targets.Target("recorded", server.url, f"{server.url}simple/")
    try:
        if expected is None:
            attestations.check_on_index(
                target, {WHEEL: DIGEST}, OURS, published_with=published_with, say=heard.append
            )
        else:
            with pytest.raises(AttestationError, match=expected):
                attestations.check_on_index(
                    target, {WHEEL: DIGEST}, OURS, published_with=published_with, say=heard.append
                )
    finally:
        server.stop()
    listing_asked = [path for _, path in server.requests if path.startswith("/simple/")]
    assert listing_asked == ["/simple/agentops-accelerator/"]
    if said is not None:
        assert heard == said


def test_verify_on_an_index_without_attestations_says_so_or_refuses_after_trusted_publishing() -> (
    None
):
    server = RecordingIndex(pages={"/simple/agentops-accelerator/": (JSON_TYPE, b'{"files": []}')})
    target = index_targets.Target("local", server.url, f"{server.url}simple/")
    said: list[str] = []
    try:
        attestations.check_on_index(
            target, {WHEEL: DIGEST}, OURS, published_with="", say=said.append
        )
        with pytest.raises(AttestationError, match="local serves no PEP 740 attestations for"):
            attestations.check_on_index(
                target, {WHEEL: DIGEST}, None, published_with="trusted-publishing", say=print
            )
    finally:
        server.stop()
    assert said == [f"note: local serves no PEP 740 attestations for {WHEEL}"]


def test_a_malformed_attested_by_is_one_line_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = RecordingIndex()
    try:
        code = verify.main(["local", "--local-url", server.url, "--attested-by", "acme"])
    finally:
        server.stop()
    assert code != 0 and server.requests == []
    error = capsys.readouterr().err.strip()
    assert error == "verify: error: --attested-by takes OWNER/REPOSITORY, not 'acme'"


def _fake_module(root: Path, name: str, main: str) -> dict[str, str]:
    """An environment whose `python -m NAME` runs MAIN instead of the installed NAME."""
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(main)
    return {**os.environ, "PYTHONPATH": str(root)}


SIGNER = """import pathlib, sys
assert sys.argv[1] == "sign", sys.argv
for name in sys.argv[2:]:
    pathlib.Path(name + ".publish.attestation").write_text('{"version": 1}')
print("signed", *sys.argv[2:])
"""


def test_trusted_publishing_signs_every_file_it_is_given(tmp_path: Path) -> None:
    wheel, sdist = tmp_path / "dist" / WHEEL, tmp_path / "dist" / SDIST
    wheel.parent.mkdir()
    wheel.write_bytes(b"w")
    sdist.write_bytes(b"s")
    attestation_of(sdist).write_text("stale")  # of other bytes, maybe: signed again
    env = _fake_module(tmp_path / "fake", "pypi_attestations", SIGNER)
    sign_attestations([wheel, sdist], env, timeout=60)
    assert attestation_of(wheel).read_text() == '{"version": 1}'
    assert attestation_of(sdist).read_text() == '{"version": 1}'
    assert attestation_of(wheel).name == f"{WHEEL}.publish.attestation"  # where twine looks


def test_a_failed_signing_is_one_line_and_uploads_nothing(tmp_path: Path) -> None:
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"w")
    failing = "import sys\nprint('Traceback ...', file=sys.stderr)\n"
    failing += "sys.exit('IdentityError: no ambient OIDC credential (id-token: write?)')\n"
    env = _fake_module(tmp_path / "fake", "pypi_attestations", failing)
    with pytest.raises(PublishError) as caught:
        sign_attestations([wheel], env, timeout=60)
    assert str(caught.value) == (
        "could not sign the PEP 740 attestations: IdentityError: no ambient OIDC credential "
        "(id-token: write?); nothing uploaded"
    )
    assert not attestation_of(wheel).exists()


@pytest.mark.parametrize(
    ("source", "signed", "sent"),
    [
        (TRUSTED_PUBLISHING, True, True),
        (TRUSTED_PUBLISHING, False, False),
        ("TEST_PYPI_TOKEN", True, False),
    ],
)
def test_the_attestation_goes_up_under_trusted_publishing_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, signed: bool, sent: bool
) -> None:
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"w")
    if signed:
        attestation_of(wheel).write_text("{}")
    posted: list[Path | None] = []

    def scripted_post(*args: object, attestation: Path | None, **kwargs: object) -> Answer:
        posted.append(attestation)
        return Answer(200, "HTTP 200 OK")

    monkeypatch.setattr(uploading, "post", scripted_post)
    monkeypatch.setattr(uploading, "mint_token", lambda *args, **kwargs: "pypi-minted")
    target = index_targets.Target("local", "http://127.0.0.1:9/", "http://127.0.0.1:9/simple/")
    credentials = [Credentials(source, {"TWINE_PASSWORD": "pw"})]
    uploading.Uploader(target, credentials, {}, uploading.Limits(attempts=1)).upload(
        wheel, "ab" * 32
    )
    assert posted == [attestation_of(wheel) if sent else None]
