"""PEP 740 attestations as an index serves them, checked against the bytes and the publisher.

An index that serves attestations (PyPI, TestPyPI) gives each file of its PEP 691 JSON page a
`provenance` key: the URL of the file's provenance object (its integrity API), or null when
nothing was attested. An index without the key (pypiserver, devpi) serves no attestations.

What is checked here, offline: the provenance names the expected GitHub repository (and one of
the expected workflows) as publisher, and each of its attestations is an in-toto statement of
PyPI's publish predicate whose subject is this file with these exact sha256 bytes, carrying a
signing certificate and a transparency-log entry. The signature itself is Sigstore's to check
(`pypi-attestations verify pypi`, online); docs/releasing.md says how.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scripts import PROJECT
from scripts.indexes import index, index_targets
from scripts.indexes.simple_pages import JSON_TYPE

# The workflows that publish to each index through trusted publishing, with attestations (ci.yml
# stages develop's dev builds).
ATTESTING_WORKFLOWS = {
    "pypi": ("release.yml",),
    "testpypi": ("release.yml", "staging.yml", "ci.yml"),
}
# How the files were published (`nox -s publish` says, and writes it for the verify job): only
# trusted publishing signs PEP 740 attestations, so only then are they required.
TRUSTED = "trusted-publishing"
TOKEN = "token"  # noqa: S105 (a word, not a secret)
PUBLISHED_WITH = (TRUSTED, TOKEN, "")  # "": not known, or nothing was uploaded
TOKEN_UPLOAD = "published with an API token"  # noqa: S105 (how verify notes a token upload)
OWNER_REPO = re.compile(r"[\w.-]+/[\w.-]+")  # a GitHub repository's full name
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PUBLISH_PREDICATE = "https://docs.pypi.org/attestations/publish/v1"


class AttestationError(Exception):
    """A file's attestations are missing or do not vouch for it; the message says why."""


@dataclass(frozen=True)
class Publisher:
    """Who must have attested: a GitHub repository, through one of WORKFLOWS (any if empty)."""

    repository: str
    workflows: tuple[str, ...] = ()

    def __str__(self) -> str:
        through = f" ({' or '.join(self.workflows)})" if self.workflows else ""
        return f"GitHub {self.repository}{through}"

    def matches(self, publisher: object) -> bool:
        """Whether a provenance bundle's PUBLISHER object is this one."""
        if not isinstance(publisher, dict) or str(publisher.get("kind", "")).lower() != "github":
            return False
        repository = str(publisher.get("repository", ""))
        if repository.lower() != self.repository.lower():
            return False
        return not self.workflows or publisher.get("workflow") in self.workflows


def _described(publisher: object) -> str:
    if not isinstance(publisher, dict):
        return "an unnamed publisher"
    kind, repository = publisher.get("kind", "?"), publisher.get("repository", "?")
    workflow = publisher.get("workflow")
    return f"{kind} {repository}" + (f" ({workflow})" if workflow else "")


def _statement(attestation: object) -> dict[str, object]:
    """The in-toto statement an attestation's envelope signs; AttestationError if unreadable."""
    try:
        envelope = attestation["envelope"]  # type: ignore[index]
        raw = base64.b64decode(envelope["statement"], validate=True)
        statement = json.loads(raw)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise AttestationError("an attestation without a readable in-toto statement") from None
    if not isinstance(statement, dict):
        raise AttestationError("an attestation whose statement is not a JSON object")
    return statement


def _check_attestation(attestation: object, filename: str, sha256: str) -> None:
    statement = _statement(attestation)
    if statement.get("_type") != STATEMENT_TYPE:
        raise AttestationError(f"a statement of type {statement.get('_type')!r}, not in-toto v1")
    if statement.get("predicateType") != PUBLISH_PREDICATE:
        raise AttestationError(
            f"a statement of predicate {statement.get('predicateType')!r}, not PyPI's publish"
        )
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise AttestationError("a statement about no file")
    for subject in subjects:
        if not isinstance(subject, dict) or subject.get("name") != filename:
            raise AttestationError(f"a statement about {_name(subject)}, not {filename}")
        digest = subject.get("digest")
        attested = digest.get("sha256") if isinstance(digest, dict) else None
        if attested != sha256:
            shown = f"{attested[:12]}…" if isinstance(attested, str) else "no sha256"
            raise AttestationError(
                f"a statement about other bytes of {filename} ({shown}, not {sha256[:12]}…)"
            )
    material = attestation.get("verification_material") if isinstance(attestation, dict) else None
    if not isinstance(material, dict) or not material.get("certificate"):
        raise AttestationError("an attestation without its signing certificate")
    if not material.get("transparency_entries"):
        raise AttestationError("an attestation that is in no transparency log")


def _name(subject: object) -> str:
    return repr(subject.get("name")) if isinstance(subject, dict) else "nothing"


def check_provenance(
    provenance: object, filename: str, sha256: str, publisher: Publisher | None
) -> str:
    """Who attested FILENAME with SHA256, from its PEP 740 PROVENANCE object, in a few words;
    AttestationError unless every attestation of PUBLISHER's bundle (any bundle if None) is
    about exactly these bytes."""
    if not isinstance(provenance, dict) or provenance.get("version") != 1:
        raise AttestationError(f"{filename}: not a version 1 PEP 740 provenance object")
    bundles = provenance.get("attestation_bundles")
    if not isinstance(bundles, list) or not bundles:
        raise AttestationError(f"{filename}: the provenance holds no attestation bundle")
    chosen = [
        bundle
        for bundle in bundles
        if isinstance(bundle, dict)
        and (publisher is None or publisher.matches(bundle.get("publisher")))
    ]
    if not chosen:
        others = ", ".join(
            _described(b.get("publisher") if isinstance(b, dict) else None) for b in bundles
        )
        raise AttestationError(f"{filename} was attested by {others}, not by {publisher}")
    for bundle in chosen:
        attestations = bundle.get("attestations")
        if not isinstance(attestations, list) or not attestations:
            raise AttestationError(f"{filename}: a bundle of {_described(bundle)} is empty")
        for attestation in attestations:
            try:
                _check_attestation(attestation, filename, sha256)
            except AttestationError as error:
                raise AttestationError(f"{filename}: {error}") from None
    return _described(chosen[0].get("publisher"))


@dataclass(frozen=True)
class Verdict:
    """What the index says of the attestations of a set of files."""

    served: bool  # False: the index serves no attestations (no provenance key)
    attested: dict[str, str]  # filename -> who attested it
    missing: list[str]  # files the index says were not attested


def check_files(
    provenance_urls: Mapping[str, str | None],
    sums: Mapping[str, str],
    publisher: Publisher | None,
    fetch: Callable[[str], object | None],
) -> Verdict:
    """Check every file of SUMS ({filename: sha256}) by its PROVENANCE_URLS entry (a FileLink's
    provenance), fetching each provenance object with FETCH (None: not there)."""
    urls = {name: provenance_urls.get(name) for name in sums}
    if all(url is None for url in urls.values()):
        return Verdict(served=False, attested={}, missing=[])
    attested, missing = {}, []
    for name, url in sorted(urls.items()):
        document = fetch(url) if url else None
        if document is None:
            missing.append(name)
            continue
        attested[name] = check_provenance(document, name, sums[name], publisher)
    return Verdict(served=True, attested=attested, missing=missing)


def github_repository(environ: Mapping[str, str]) -> str | None:
    """$GITHUB_REPOSITORY when it is OWNER/REPO; act sets it to the remote's path for a local
    origin, which names no publisher."""
    repository = environ.get("GITHUB_REPOSITORY", "")
    return repository if OWNER_REPO.fullmatch(repository) else None


def publisher_from(repository: str | None, workflows: Sequence[str]) -> Publisher | None:
    """The publisher verify expects: OWNER/REPO through WORKFLOWS; None if no repository."""
    if not repository:
        return None
    if not OWNER_REPO.fullmatch(repository.strip()):
        raise ValueError(f"--attested-by takes OWNER/REPOSITORY, not {repository!r}")
    return Publisher(repository.strip(), tuple(workflows))


def check_on_index(
    target: index_targets.Target,
    sums: Mapping[str, str],
    publisher: Publisher | None,
    *,
    published_with: str,
    say: Callable[[str], None],
) -> None:
    """Check the PEP 740 attestations TARGET serves for the files of SUMS ({name: sha256}):
    AttestationError if one vouches for other bytes or another publisher, or, when they were
    PUBLISHED_WITH trusted publishing (which attests every file), if a file has none."""
    required = published_with == TRUSTED
    if published_with == TOKEN:
        say(f"{TOKEN_UPLOAD}: PEP 740 attestations come only with trusted publishing, so none "
            "are required (any served are still checked)")  # fmt: skip
    # A JSON listing of its own, whatever verify's listings were: only PEP 691 JSON tells "not
    # attested" (`"provenance": null`) from "serves no attestations" (no key); HTML cannot.
    listed = index.list_links(target.simple_url, PROJECT, accept=JSON_TYPE, attempts=3)
    try:
        verdict = check_files(
            {name: link.provenance for name, link in listed.items()},
            sums,
            publisher,
            fetch=index.fetch_json,
        )
    except AttestationError as error:
        raise AttestationError(f"attestation refused: {error}") from None
    missing = sorted(sums) if not verdict.served else verdict.missing
    for name, who in sorted(verdict.attested.items()):
        say(f"attested: {name} by {who}, for exactly these bytes")
    if not missing:
        return
    where = (
        f"{target.name} serves no PEP 740 attestations"
        if not verdict.served
        else f"{target.name} has no attestation"
    )
    if required:
        raise AttestationError(
            f"not attested: {where} for {', '.join(missing)}, which were published with "
            "trusted publishing: each upload carried one (see docs/releasing.md, Provenance)"
        )
    say(f"note: {where} for {', '.join(missing)}")
