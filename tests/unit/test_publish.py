"""publish: the upload plan, credentials, redaction, the index's answers, and bad input."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from scripts.artifacts import publish, uploading
from scripts.artifacts.manifest import write_manifest
from scripts.artifacts.publish import UploadPlan, plan_upload
from scripts.artifacts.twine_upload import (
    Answer,
    Credentials,
    MintFailed,
    PublishError,
    credentials_for,
)
from scripts.artifacts.uploading import Limits
from scripts.indexes.index_targets import Target
from scripts.output import SECRET_VARIABLES, redact
from tests.helpers import RecordingIndex

WHEEL = "agentops_accelerator-1.2.3-py3-none-any.whl"
SDIST = "agentops_accelerator-1.2.3.tar.gz"
SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64
PYPI = Target("pypi", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/")
TESTPYPI = Target("testpypi", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/")
URL_TARGET = Target(
    "https://pkgs.example.org/legacy/",
    "https://pkgs.example.org/legacy/",
    "https://pkgs.example.org/simple/",
)
LOCAL = Target("local", "http://127.0.0.1:9/", "http://127.0.0.1:9/simple/")
OIDC = {
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/req",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-secret",
}
# Every variable publish reads for credentials: each test starts without any of them.
CREDENTIAL_VARIABLES = (
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TEST_PYPI_TOKEN",
    "PYPI_TOKEN",
    "LOCAL_INDEX_PASSWORD",
    "LOCAL_INDEX_URL",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
TWINE_TOKEN = Credentials("TWINE_USERNAME/TWINE_PASSWORD", {"TWINE_USERNAME": "__token__"})
TRUSTED = Credentials("trusted publishing (GitHub OIDC)", {"TWINE_USERNAME": "__token__"})

# --- the plan ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "on_index", "expected"),
    [
        pytest.param(
            {WHEEL: SHA_A, SDIST: SHA_B},
            {WHEEL: SHA_A, SDIST: SHA_B},
            UploadPlan(skip=[WHEEL, SDIST]),
            id="all-skip",
        ),
        pytest.param(
            {WHEEL: SHA_A, SDIST: SHA_B},
            {},
            UploadPlan(upload=[WHEEL, SDIST]),
            id="all-upload",
        ),
        pytest.param(
            {WHEEL: SHA_A, SDIST: SHA_B},
            {WHEEL: SHA_A, "agentops_accelerator-1.2.2.tar.gz": SHA_C},
            UploadPlan(upload=[SDIST], skip=[WHEEL]),
            id="mixed-other-versions-ignored",
        ),
        pytest.param(
            {WHEEL: SHA_A, SDIST: SHA_B},
            {WHEEL: SHA_C},
            UploadPlan(upload=[SDIST], conflicts=[WHEEL]),
            id="conflict",
        ),
        pytest.param(
            {WHEEL: SHA_A, SDIST: SHA_B},
            {WHEEL: SHA_B, SDIST: SHA_A},
            UploadPlan(conflicts=[WHEEL, SDIST]),
            id="swapped-bytes-conflict",
        ),
    ],
)
def test_plan_upload(built: dict[str, str], on_index: dict[str, str], expected: UploadPlan) -> None:
    assert plan_upload(built, on_index) == expected


# --- credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "environ", "expected"),
    [
        pytest.param(
            LOCAL,
            {"TWINE_USERNAME": "rehearsal", "TWINE_PASSWORD": "pw-1234"},
            [Credentials("TWINE_USERNAME/TWINE_PASSWORD", {"TWINE_USERNAME": "rehearsal"})],
            id="twine-username-and-password",
        ),
        pytest.param(
            PYPI, {"TWINE_PASSWORD": "pypi-abcdef"}, [TWINE_TOKEN], id="twine-password-only"
        ),
        pytest.param(
            PYPI,
            {"TWINE_USERNAME": "", "TWINE_PASSWORD": "pypi-abcdef"},
            [TWINE_TOKEN],
            id="twine-username-empty",
        ),
        pytest.param(
            PYPI,
            {"TWINE_PASSWORD": "pypi-abcdef", "PYPI_TOKEN": "pypi-other", **OIDC},
            [TWINE_TOKEN],
            id="twine-password-wins-over-oidc-and-token",
        ),
        pytest.param(
            PYPI,
            {"PYPI_TOKEN": "pypi-abcdef"},
            [
                Credentials(
                    "PYPI_TOKEN", {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "pypi-abcdef"}
                )
            ],
            id="pypi-token",
        ),
        pytest.param(
            TESTPYPI,
            {"TEST_PYPI_TOKEN": "pypi-test", "PYPI_TOKEN": "pypi-real", "TWINE_USERNAME": "bob"},
            [
                Credentials(
                    "TEST_PYPI_TOKEN",
                    {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "pypi-test"},
                )
            ],
            id="testpypi-token-username-ignored",
        ),
        pytest.param(PYPI, OIDC, [TRUSTED], id="oidc-pypi"),
        pytest.param(TESTPYPI, OIDC, [TRUSTED], id="oidc-testpypi"),
        pytest.param(
            PYPI,
            {**OIDC, "PYPI_TOKEN": "pypi-abcdef"},
            [
                TRUSTED,
                Credentials(
                    "PYPI_TOKEN", {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "pypi-abcdef"}
                ),
            ],
            id="oidc-then-token",
        ),
        pytest.param(
            PYPI,
            {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x", "PYPI_TOKEN": "pypi-abcdef"},
            [
                Credentials(
                    "PYPI_TOKEN", {"TWINE_USERNAME": "__token__", "TWINE_PASSWORD": "pypi-abcdef"}
                )
            ],
            id="half-oidc-is-no-oidc",
        ),
        pytest.param(
            URL_TARGET,
            {**OIDC, "TWINE_PASSWORD": "pw-1234"},
            [TWINE_TOKEN],
            id="url-target-twine-password",
        ),
    ],
)
def test_credentials_for(
    target: Target, environ: dict[str, str], expected: list[Credentials]
) -> None:
    assert credentials_for(target, environ) == expected


@pytest.mark.parametrize(
    ("target", "environ", "message"),
    [
        pytest.param(
            PYPI,
            {},
            "no credentials for pypi: set PYPI_TOKEN or TWINE_USERNAME/TWINE_PASSWORD or "
            "trusted publishing (id-token: write in GitHub Actions)",
            id="nothing-pypi",
        ),
        pytest.param(
            TESTPYPI,
            {"PYPI_TOKEN": "pypi-real-secret", "TWINE_USERNAME": "bob"},
            "no credentials for testpypi: set TEST_PYPI_TOKEN or TWINE_USERNAME/TWINE_PASSWORD",
            id="token-for-the-other-index",
        ),
        pytest.param(
            URL_TARGET,
            OIDC,
            "no credentials for https://pkgs.example.org/legacy/: set "
            "TWINE_USERNAME/TWINE_PASSWORD",
            id="oidc-for-url-target",
        ),
        pytest.param(
            LOCAL,
            {"TWINE_PASSWORD": "", "PYPI_TOKEN": "pypi-real-secret", **OIDC},
            "no credentials for local: set TWINE_USERNAME/TWINE_PASSWORD",
            id="empty-password-local",
        ),
    ],
)
def test_credentials_for_refuses(target: Target, environ: dict[str, str], message: str) -> None:
    with pytest.raises(PublishError) as caught:
        credentials_for(target, environ)
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text
    for value in environ.values():
        if len(value) >= 4 and "://" not in value:
            assert value not in text


# --- redaction and twine's answers -------------------------------------------------------------


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
def test_redact_hides_every_secret_variable(variable: str) -> None:
    secret = f"{variable.lower()}-s3cr3t"
    text = f"token {secret} and again {secret}."
    assert redact(text, {variable: secret}) == "token *** and again ***."


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        pytest.param("pw abc", {"TWINE_PASSWORD": "abc"}, "pw abc", id="short-left-alone"),
        pytest.param("pw abcd", {"TWINE_PASSWORD": "abcd"}, "pw ***", id="four-chars-redacted"),
        pytest.param("pw ", {"TWINE_PASSWORD": ""}, "pw ", id="empty"),
        pytest.param(
            "user rehearsal", {"TWINE_USERNAME": "rehearsal"}, "user rehearsal", id="not-secret"
        ),
        pytest.param(
            "a pypi-AAAA b pypi-BBBB",
            {"PYPI_TOKEN": "pypi-AAAA", "TEST_PYPI_TOKEN": "pypi-BBBB"},
            "a *** b ***",
            id="two-secrets",
        ),
    ],
)
def test_redact(text: str, environ: dict[str, str], expected: str) -> None:
    assert redact(text, environ) == expected


@pytest.mark.parametrize(
    ("answer", "refused", "rejected", "slow_down", "verdict"),
    [
        pytest.param(Answer(403, "HTTP 403 Forbidden"), True, False, False, None, id="403"),
        pytest.param(Answer(401, "HTTP 401 Unauthorized"), True, False, False, None, id="401"),
        pytest.param(Answer(400, "HTTP 400 File already exists ('x.whl', with blake2_256 hash "
                     "'ab')."), False, True, False, "a file of that name is on the index with "
                     "other bytes (or not listed yet)", id="400-file-exists"),
        pytest.param(Answer(400, "HTTP 400 This filename has already been used, use a different "
                     "version."), False, True, False, "PyPI keeps the name of a deleted file "
                     "forever: release a new version", id="400-deleted-name"),
        pytest.param(Answer(400, "HTTP 400 The digest supplied does not match a digest "
                     "calculated from the uploaded file."), False, False, False, None,
                     id="400-damaged-on-the-way-is-retried"),
        pytest.param(Answer(409, "HTTP 409 Conflict"), False, True, False, None, id="409"),
        pytest.param(Answer(408, "HTTP 408 Request Timeout"), False, False, False, None,
                     id="408-is-retried"),
        pytest.param(Answer(429, "HTTP 429 Too Many Requests"), False, False, True, None,
                     id="429-is-retried-slower"),
        pytest.param(Answer(503, "HTTP 503 Service Unavailable"), False, False, False, None,
                     id="503"),
        pytest.param(Answer(None, "no answer (ConnectionError)"), False, False, False, None,
                     id="no-answer"),
    ],
)  # fmt: skip
def test_what_an_answer_means(
    answer: Answer, refused: bool, rejected: bool, slow_down: bool, verdict: str | None
) -> None:
    assert (answer.refused, answer.rejected, answer.slow_down) == (refused, rejected, slow_down)
    assert answer.verdict() == verdict
    assert not answer.accepted


def test_only_a_2xx_is_accepted() -> None:
    assert Answer(200, "HTTP 200 OK").accepted
    assert not Answer(None, "no answer within 2 s").accepted


# --- upload_file with a scripted index ----------------------------------------------------------


@pytest.fixture
def recording_index() -> Iterator[RecordingIndex]:
    with RecordingIndex() as running:
        yield running


OK = Answer(200, "HTTP 200 OK")
A503 = Answer(503, "HTTP 503 Service Unavailable")
NO_ANSWER = Answer(None, "no answer (ConnectionError)")
TIMED_OUT = Answer(None, "no answer within 2 s")
TOKEN = Credentials("PYPI_TOKEN", {"TWINE_PASSWORD": "pypi-abcdef"})
NOT_MINTED = MintFailed("GitHub gave no OIDC token: HTTP 401")
REFUSED_TO_MINT = MintFailed(
    "mint-token answered HTTP 422", ["invalid-publisher: valid token, but no publisher"], final=True
)
MINTED = "pypi-minted-token"


@pytest.mark.parametrize(
    ("mints", "answers", "options", "attempts", "runs", "sleeps", "looks", "error"),
    [
        pytest.param([], [OK], [TWINE_TOKEN], 3, ["TWINE_USERNAME/TWINE_PASSWORD"], [], 0, "",
                     id="ok"),
        pytest.param([], [A503, NO_ANSWER, OK], [TWINE_TOKEN], 3,
                     ["TWINE_USERNAME/TWINE_PASSWORD"] * 3, [0.5, 1.0], 2, "",
                     id="recovers-on-the-last-attempt"),
        pytest.param([], [A503] * 5, [TWINE_TOKEN], 2, ["TWINE_USERNAME/TWINE_PASSWORD"] * 2,
                     [0.5], 2, f"upload of {WHEEL} to {LOCAL.upload_url} failed after 2 attempts: "
                     "HTTP 503 Service Unavailable", id="503-until-the-attempts-run-out"),
        pytest.param([], [TIMED_OUT] * 5, [TWINE_TOKEN], 1, ["TWINE_USERNAME/TWINE_PASSWORD"],
                     [], 1, f"upload of {WHEEL} to {LOCAL.upload_url} failed after 1 attempt: "
                     "no answer within 2 s", id="timed-out"),
        pytest.param([], [Answer(403, "HTTP 403 Forbidden")] * 5, [TWINE_TOKEN], 5,
                     ["TWINE_USERNAME/TWINE_PASSWORD"], [], 0,
                     f"local refused the upload of {WHEEL} (HTTP 403 Forbidden): check the "
                     "credentials from TWINE_USERNAME/TWINE_PASSWORD", id="403-at-once"),
        pytest.param([], [Answer(429, "HTTP 429 Too Many Requests"), OK], [TWINE_TOKEN], 3,
                     ["TWINE_USERNAME/TWINE_PASSWORD"] * 2, [4.0], 1, "",
                     id="429-waits-longer"),
        pytest.param([], [Answer(409, "HTTP 409 Conflict")] * 5, [TWINE_TOKEN], 5,
                     ["TWINE_USERNAME/TWINE_PASSWORD"], [0.5, 1.0, 2.0, 4.0], 5,
                     f"local rejected the upload of {WHEEL} (HTTP 409 Conflict): asking again "
                     "cannot change that", id="409-looks-again-but-never-posts-again"),
        pytest.param([NOT_MINTED], [OK], [TRUSTED, TOKEN], 1, ["PYPI_TOKEN"], [], 0, "",
                     id="trusted-publishing-falls-back-without-using-an-attempt"),
        pytest.param([NOT_MINTED], [Answer(403, "HTTP 403 Forbidden")], [TRUSTED, TOKEN], 3,
                     ["PYPI_TOKEN"], [], 0, "check the credentials from PYPI_TOKEN",
                     id="refusal-names-the-fallback"),
        pytest.param([REFUSED_TO_MINT], [], [TRUSTED], 3, [], [], 0,
                     "local minted no token for trusted publishing (invalid-publisher: valid "
                     "token, but no publisher): add this repository's workflow as a trusted "
                     "publisher", id="no-token-and-nothing-to-fall-back-on"),
        pytest.param([NOT_MINTED, MINTED], [OK], [TRUSTED], 3,
                     ["trusted publishing (GitHub OIDC)"], [0.5], 0, "",
                     id="no-answer-from-the-exchange-is-asked-again"),
        pytest.param([MINTED], [A503, OK], [TRUSTED], 3, ["trusted publishing (GitHub OIDC)"] * 2,
                     [0.5], 1, "", id="a-token-is-minted-once"),
    ],
)  # fmt: skip
def test_upload_file(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    recording_index: RecordingIndex,
    mints: list[MintFailed | str],
    answers: list[Answer],
    options: list[Credentials],
    attempts: int,
    runs: list[str],
    sleeps: list[float],
    looks: int,
    error: str,
) -> None:
    """Each failed upload looks at the (empty) index once before it retries or gives up."""
    used: list[str] = []
    posted_with: list[str] = []
    left, minting = list(answers), list(mints)

    def scripted_post(
        path: Path, target: Target, username: str, password: str, **_: object
    ) -> Answer:
        used.append(options[0].source)
        posted_with.append(password)
        return left.pop(0)

    def scripted_mint(target: Target, environ: Mapping[str, str], timeout: float) -> str:
        minted = minting.pop(0)
        if isinstance(minted, MintFailed):
            raise minted
        return minted

    monkeypatch.setattr(uploading, "post", scripted_post)
    monkeypatch.setattr(uploading, "mint_token", scripted_mint)
    target = Target("local", LOCAL.upload_url, f"{recording_index.url}simple/")
    slept: list[float] = []
    said: list[str] = []
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"wheel")
    options = list(options)
    uploader = uploading.Uploader(
        target, options, {"TWINE_PASSWORD": "pw"}, Limits(attempts=attempts, timeout=2.0),
        say=said.append, sleep=slept.append,
    )  # fmt: skip
    call = lambda: uploader.upload(wheel, SHA_A)  # noqa: E731
    if error:
        with pytest.raises(PublishError) as caught:
            call()
        assert error in str(caught.value)
        assert "\n" not in str(caught.value)
    else:
        call()
    assert used == runs
    assert slept == sleeps
    assert minting == []  # the exchange was asked exactly as often as scripted
    assert recording_index.requests == [("GET", "/simple/agentops-accelerator/")] * looks
    if MINTED in mints:  # the minted token is what every upload of trusted publishing sends
        assert set(posted_with) == {MINTED}


# --- main() and bad input ----------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def built_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / WHEEL).write_bytes(b"PK\x03\x04 a wheel")
    (dist / SDIST).write_bytes(b"\x1f\x8b an sdist")
    write_manifest(dist)
    return dist


def changed_dist(tmp_path: Path) -> Path:
    dist = built_dist(tmp_path)
    (dist / WHEEL).write_bytes(b"PK\x03\x04 another wheel")
    return dist


@pytest.mark.parametrize(
    ("make_dist", "target", "password", "message"),
    [
        pytest.param(
            built_dist,
            "ftp://127.0.0.1/",
            "pw-1234",
            "publish: error: unknown index 'ftp://127.0.0.1/': expected testpypi, pypi, local, "
            "an index named in pyproject.toml's [[tool.uv.index]] or an http(s) upload URL",
            id="unknown-target",
        ),
        pytest.param(
            lambda tmp_path: tmp_path / "nothing",
            "local",
            "pw-1234",
            "publish: error: no {tmp}/nothing/ folder: run `nox -s build` first",
            id="missing-dist",
        ),
        pytest.param(
            changed_dist,
            "local",
            "pw-1234",
            "publish: error: {tmp}/dist/" + WHEEL + " changed after the build (sha256 ",
            id="dist-changed-after-the-manifest",
        ),
        pytest.param(
            built_dist,
            "local",
            "",
            "publish: error: no credentials for local: set TWINE_USERNAME/TWINE_PASSWORD",
            id="missing-credentials",
        ),
    ],
)
def test_main_bad_input_is_one_line_and_asks_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
    recording_index: RecordingIndex,
    tmp_path: Path,
    make_dist: Callable[[Path], Path],
    target: str,
    password: str,
    message: str,
) -> None:
    dist = make_dist(tmp_path)
    if password:
        monkeypatch.setenv("TWINE_PASSWORD", password)
    code = publish.main([target, "--dist", str(dist), "--local-url", recording_index.url])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(message.format(tmp=tmp_path)), err
    assert err.count("\n") == 1
    assert out == ""
    assert recording_index.requests == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        pytest.param("--attempts", "0", id="no-attempts"),
        pytest.param("--attempts", "two", id="attempts-not-a-number"),
        pytest.param("--timeout", "-1", id="negative-timeout"),
        pytest.param("--upload-timeout", "0", id="no-upload-time"),
    ],
)
def test_main_refuses_limits_that_could_never_work(
    capsys: pytest.CaptureFixture[str], clean_env: None, option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        publish.main(["local", "--local-url", "http://127.0.0.1:9/", option, value])
    assert caught.value.code == 2
    assert f"argument {option}: " in capsys.readouterr().err


def test_main_redacts_what_it_says(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
    tmp_path: Path,
) -> None:
    """A secret in the progress lines (here inside the index URL) never reaches stdout."""
    secret = "s3cr3t-in-the-url"
    monkeypatch.setenv("TWINE_PASSWORD", secret)
    dist = built_dist(tmp_path)
    with RecordingIndex(simple_roots=(f"/{secret}/simple/",)) as running:
        # The index answers 404 to the listing (nothing there) and to the upload URL.
        code = publish.main(
            [
                "local",
                "--dist",
                str(dist),
                "--local-url",
                f"{running.url}{secret}/",
                "--attempts",
                "1",
                "--upload-timeout",
                "30",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 1
    assert secret not in out + err
    assert f"{running.url}***/" in out
    assert err.count("\n") == 1


TRUSTED = "trusted publishing (GitHub OIDC)"  # how twine_upload names it, written out here


@pytest.mark.parametrize(
    ("uploaded_with", "expected"),
    [
        ({}, ""),
        ({"a.whl": TRUSTED, "a.tar.gz": TRUSTED}, "trusted-publishing"),
        ({"a.whl": TRUSTED, "a.tar.gz": "PYPI_TOKEN"}, "token"),
        ({"a.whl": "TWINE_USERNAME/TWINE_PASSWORD"}, "token"),
    ],
    ids=["nothing-uploaded", "all-trusted", "trusted-then-the-token", "a-password"],
)  # fmt: skip
def test_published_with_tells_verify_whether_attestations_are_due(
    uploaded_with: dict[str, str], expected: str
) -> None:
    plan = publish.UploadPlan(upload=sorted(uploaded_with), uploaded_with=uploaded_with)
    assert publish.published_with(plan) == expected
