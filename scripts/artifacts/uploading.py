"""One file's upload to an index, retried with backoff, every failure checked against what the
index lists before anything is posted again (publish's promise: no file posted twice once it is
listed). `Uploader` holds what every attempt shares: the target, the credentials, the limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scripts import PROJECT
from scripts.artifacts.twine_upload import (
    TOKEN_USERNAME,
    TOKEN_VARIABLES,
    TRUSTED_PUBLISHING,
    WAREHOUSE_REJECTIONS,
    Answer,
    Credentials,
    MintFailed,
    PublishError,
    attestation_of,
    mint_token,
    post,
    username_and_password,
)
from scripts.indexes import index, index_targets, retrying, simple_pages

EXISTS = dict(WAREHOUSE_REJECTIONS)["File already exists"]  # a 4xx worth looking again after
# The first wait after the index asked to slow down (429).
SLOW_DOWN = 4.0


@dataclass(frozen=True)
class Limits:
    """How long publish may keep trying: tries per request, and seconds per answer."""

    attempts: int = 5
    timeout: float = 10.0
    upload_timeout: float = 600.0
    listing_deadline: float = 120.0  # how long an upload may take to be listed (a CDN's lag)


def digests_on_index(
    target: index_targets.Target,
    wanted: Collection[str],
    *,
    limits: Limits,
    attempts: int | None = None,
    say: Callable[[str], None],
) -> tuple[index_targets.Target, dict[str, str]]:
    """TARGET with its simple API settled, and {file name: sha256} of what the index lists;
    WANTED files it lists without one are hashed.

    An index that gives no sha256 in its listing is asked for the file itself: "no hash" must
    never read as "other bytes".
    """
    tries = limits.attempts if attempts is None else attempts
    target, links = index.list_on_target(
        target, PROJECT, timeout=limits.timeout, attempts=tries, report=say
    )
    digests = {name: link.sha256 for name, link in links.items()}
    for name in sorted(wanted):
        if digests.get(name) == "":
            digests[name] = index.sha256_of(
                links[name], timeout=limits.timeout, attempts=tries, report=say
            )
    return target, digests


@dataclass
class Uploader:
    """Uploads files to TARGET with CREDENTIALS, in their order (trusted publishing that failed
    is dropped, for the files after it), within LIMITS, saying what it does through SAY."""

    target: index_targets.Target
    credentials: list[Credentials]
    environ: Mapping[str, str]
    limits: Limits
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = field(default=time.sleep)

    def upload(self, path: Path, digest: str) -> None:
        """Upload PATH, retrying network trouble with backoff. A refusal fails at once; after
        any other failure the index is asked first: a file there with the built DIGEST is done
        (the answer was lost, or an identical upload came first), never posted again."""
        attempts = self.limits.attempts
        for attempt in range(1, attempts + 1):
            answer = self._try_once(path, digest)
            if answer is None:
                return
            if attempt == attempts:
                raise PublishError(
                    f"upload of {path.name} to {self.target.upload_url} failed after "
                    f"{attempts} attempt{'s' if attempts > 1 else ''}: {answer.said}"
                )
            delay = retrying.backoff(attempt - 1, first=SLOW_DOWN if answer.slow_down else 0.5)
            self.say(f"upload of {path.name} failed ({answer.said}); "
                     f"retry {attempt + 1}/{attempts} in {delay:.1f} s")  # fmt: skip
            self.sleep(delay)

    def _login(self) -> tuple[str, str]:
        """The user name and password of the first credentials; under trusted publishing a
        token minted once, kept for the files after this one. MintFailed if none was minted."""
        first = self.credentials[0]
        if first.source == TRUSTED_PUBLISHING and "TWINE_PASSWORD" not in first.env:
            token = mint_token(self.target, self.environ, timeout=self.limits.timeout)
            self.credentials[0] = Credentials(
                TRUSTED_PUBLISHING, {"TWINE_USERNAME": TOKEN_USERNAME, "TWINE_PASSWORD": token}
            )
        return username_and_password(self.credentials[0], self.environ)

    def _logged_in(self) -> tuple[str, str] | Answer:
        """The user name and password to upload with, falling back on the next credentials
        when trusted publishing fails (not counted as an attempt); an Answer to retry after when
        the token exchange did not answer; PublishError when nothing is left to try."""
        while True:
            try:
                return self._login()
            except MintFailed as failure:
                if len(self.credentials) > 1:
                    self.say(f"trusted publishing failed ({failure}); using "
                             f"{self.credentials[1].source}")  # fmt: skip
                    self.credentials.pop(0)
                elif failure.final:
                    variable = TOKEN_VARIABLES.get(self.target.name, "TWINE_PASSWORD")
                    raise PublishError(
                        f"{self.target.name} minted no token for trusted publishing ({failure}): "
                        f"add this repository's workflow as a trusted publisher of {PROJECT} "
                        "there (workflow file and environment as in docs/releasing.md), or set "
                        f"{variable}"
                    ) from None
                else:
                    return Answer(None, str(failure))

    def _try_once(self, path: Path, digest: str) -> Answer | None:
        """One attempt at uploading PATH: None when it is on the index now; else the answer to
        retry after. A refusal raises."""
        login = self._logged_in()
        if isinstance(login, Answer):
            return login
        signed = attestation_of(path)
        trusted = self.credentials[0].source == TRUSTED_PUBLISHING and signed.is_file()
        answer = post(
            path, self.target, *login, attestation=signed if trusted else None,
            timeout=self.limits.upload_timeout, say=self.say,
        )  # fmt: skip
        if answer.accepted:
            return None
        if answer.refused:
            raise PublishError(
                f"{self.target.name} refused the upload of {path.name} ({answer.said}): "
                f"check the credentials from {self.credentials[0].source}"
            )
        return None if self._done_on_index(answer, path, digest) else answer

    def _listed_digest(self, name: str) -> str | None:
        """The sha256 the index lists NAME with (one look), or None."""
        try:
            _, listed = digests_on_index(
                self.target, [name], limits=self.limits, attempts=1, say=self.say
            )
        except simple_pages.PackageIndexError:
            return None
        return listed.get(name)

    def _done_on_index(self, answer: Answer, path: Path, digest: str) -> bool:
        """After a failed upload, ask the index: True when it lists PATH with the built DIGEST;
        PublishError when it lists other bytes or rejected the upload for good; False when
        posting again may help."""
        name, where = path.name, self.target.name
        listed = self._listed_digest(name)
        if answer.rejected and answer.verdict() in (None, EXISTS):
            # Maybe a racing publisher's identical file, not listed yet: look, never post again.
            for look in range(1, self.limits.attempts if listed is None else 1):
                delay = retrying.backoff(look - 1)
                self.say(f"{name} exists on {where} but is not listed yet; next look in "
                         f"{delay:.1f} s")  # fmt: skip
                self.sleep(delay)
                listed = self._listed_digest(name)
                if listed is not None:
                    break
        if listed == digest:
            self.say(f"{name} is on {where} with the built sha256: done, not posted again")
            return True
        if listed:  # no lag: a file of that name with other bytes landed meanwhile
            raise PublishError(
                f"{name} is on {where} with a different sha256 now: this version was released "
                "from other bytes meanwhile; release a new version instead"
            )
        if answer.rejected:
            meaning = answer.verdict() or "asking again cannot change that"
            raise PublishError(f"{where} rejected the upload of {name} ({answer.said}): {meaning}")
        return False
