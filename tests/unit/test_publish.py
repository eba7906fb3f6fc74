"""scripts.publish: the upload plan, credentials, redaction, twine's answers, and bad input."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from scripts import publish, twine_upload
from scripts.index import Target
from scripts.manifest import write_manifest
from scripts.output import SECRET_VARIABLES, redact
from scripts.publish import (
    Credentials,
    Limits,
    PublishError,
    UploadPlan,
    credentials_for,
    http_status,
    is_refusal,
    is_rejection,
    plan_upload,
    summary,
    trusted_publishing_failed,
)
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

# What twine 7 prints (--no-color, wide columns), trimmed to the lines that matter.
TWINE_403 = (
    "Uploading distributions to http://127.0.0.1:9/\n"
    f"Uploading {WHEEL}\n"
    "WARNING  Error during upload. Retry with the --verbose option for more details.   \n"
    "ERROR    HTTPError: 403 Forbidden from http://127.0.0.1:9/   \n"
    "         Forbidden   \n"
)
TWINE_PYPI_403 = (
    "ERROR    HTTPError: 403 Forbidden from https://upload.pypi.org/legacy/\n"
    "         Invalid or non-existent authentication information. See\n"
    "         https://pypi.org/help/#invalid-auth for more information.\n"
)
TWINE_401 = "ERROR    HTTPError: 401 Unauthorized from http://127.0.0.1:9/\n"
TWINE_400 = (
    "ERROR    HTTPError: 400 Bad Request from https://upload.pypi.org/legacy/\n"
    "         File already exists ('x.whl', with blake2_256 hash 'ab').\n"
)
TWINE_409 = "ERROR    HTTPError: 409 Conflict from http://127.0.0.1:9/\n         Conflict\n"
TWINE_429 = "ERROR    HTTPError: 429 Too Many Requests from https://upload.pypi.org/legacy/\n"
TWINE_503 = (
    "WARNING  Error during upload. Retry with the --verbose option for more details.\n"
    "ERROR    HTTPError: 503 Service Unavailable from http://127.0.0.1:9/\n"
    "         Service Unavailable\n"
)
TWINE_REFUSED_CONNECTION = (
    "Traceback (most recent call last):\n"
    '  File "twine/repository.py", line 151, in _upload\n'
    "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): "
    "Max retries exceeded with url: /\n"
)
TWINE_OIDC_FAILED = (
    "ERROR    TrustedPublishingFailure: Unable to retrieve an OIDC token from the CI platform\n"
    "         for trusted publishing\n"
)
TWINE_OIDC_AUDIENCE_404 = (
    "ERROR    HTTPError: 404 Not Found from https://upload.pypi.org/_/oidc/audience\n"
)


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
    ("output", "status", "refusal", "rejection", "oidc_failed"),
    [
        pytest.param(TWINE_403, 403, True, False, False, id="403"),
        pytest.param(TWINE_PYPI_403, 403, True, False, False, id="pypi-403"),
        pytest.param(TWINE_401, 401, True, False, False, id="401"),
        pytest.param(
            "Invalid or non-existent authentication information.",
            None,
            True,
            False,
            False,
            id="pypi-words",
        ),
        pytest.param(TWINE_400, 400, False, True, False, id="400-file-exists"),
        pytest.param(TWINE_409, 409, False, True, False, id="409"),
        pytest.param(TWINE_429, 429, False, False, False, id="429-is-retried"),
        pytest.param(TWINE_503, 503, False, False, False, id="503"),
        pytest.param(TWINE_REFUSED_CONNECTION, None, False, False, False, id="no-connection"),
        pytest.param(TWINE_OIDC_FAILED, None, False, False, True, id="oidc-failed"),
        pytest.param(TWINE_OIDC_AUDIENCE_404, 404, False, True, True, id="oidc-audience-404"),
        pytest.param("", None, False, False, False, id="no-output"),
    ],
)
def test_twine_answers(
    output: str, status: int | None, refusal: bool, rejection: bool, oidc_failed: bool
) -> None:
    assert http_status(output) == status
    assert is_refusal(output) is refusal
    assert is_rejection(output) is rejection
    assert trusted_publishing_failed(output) is oidc_failed


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(
            TWINE_403, "HTTPError: 403 Forbidden from http://127.0.0.1:9/ Forbidden", id="403"
        ),
        pytest.param(
            TWINE_400,
            "HTTPError: 400 Bad Request from https://upload.pypi.org/legacy/ "
            "File already exists ('x.whl', with blake2_256 hash 'ab').",
            id="400",
        ),
        pytest.param(
            TWINE_REFUSED_CONNECTION,
            "requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): "
            "Max retries exceeded with url: /",
            id="traceback",
        ),
        pytest.param("\n  \n", "no output", id="nothing"),
    ],
)
def test_summary(output: str, expected: str) -> None:
    assert summary(output) == expected


# --- upload_file with a scripted twine ----------------------------------------------------------


@pytest.fixture
def recording_index() -> Iterator[RecordingIndex]:
    with RecordingIndex() as running:
        yield running


OK = (0, "Uploading distributions\n")
TIMED_OUT = (None, "no answer within 2 s (twine stopped)")


@pytest.mark.parametrize(
    ("answers", "options", "attempts", "runs", "sleeps", "looks", "error"),
    [
        pytest.param([OK], [TWINE_TOKEN], 3, ["TWINE_USERNAME/TWINE_PASSWORD"], [], 0, "", id="ok"),
        pytest.param(
            [(1, TWINE_503), (1, TWINE_REFUSED_CONNECTION), OK],
            [TWINE_TOKEN],
            3,
            ["TWINE_USERNAME/TWINE_PASSWORD"] * 3,
            [0.5, 1.0],
            2,
            "",
            id="recovers-on-the-last-attempt",
        ),
        pytest.param(
            [(1, TWINE_503)] * 5,
            [TWINE_TOKEN],
            2,
            ["TWINE_USERNAME/TWINE_PASSWORD"] * 2,
            [0.5],
            2,
            f"upload of {WHEEL} to {LOCAL.upload_url} failed after 2 attempts: "
            "HTTPError: 503 Service Unavailable from http://127.0.0.1:9/ Service Unavailable",
            id="503-until-the-attempts-run-out",
        ),
        pytest.param(
            [TIMED_OUT] * 5,
            [TWINE_TOKEN],
            1,
            ["TWINE_USERNAME/TWINE_PASSWORD"],
            [],
            1,
            f"upload of {WHEEL} to {LOCAL.upload_url} failed after 1 attempt: "
            "no answer within 2 s (twine stopped)",
            id="twine-timed-out",
        ),
        pytest.param(
            [(1, TWINE_403)] * 5,
            [TWINE_TOKEN],
            5,
            ["TWINE_USERNAME/TWINE_PASSWORD"],
            [],
            0,
            f"local refused the upload of {WHEEL} (HTTPError: 403 Forbidden from "
            "http://127.0.0.1:9/ Forbidden): check the credentials from "
            "TWINE_USERNAME/TWINE_PASSWORD",
            id="403-at-once",
        ),
        pytest.param(
            [(1, "HTTPError: 429 Too Many Requests from http://127.0.0.1:9/ Too Many"), OK],
            [TWINE_TOKEN],
            3,
            ["TWINE_USERNAME/TWINE_PASSWORD"] * 2,
            [4.0],  # twine hides the Retry-After: a slowed-down retry waits longer than 0.5 s
            1,
            "",
            id="429-waits-longer",
        ),
        pytest.param(
            [(1, TWINE_409)] * 5,
            [TWINE_TOKEN],
            5,
            ["TWINE_USERNAME/TWINE_PASSWORD"],
            [0.5, 1.0, 2.0, 4.0],
            5,
            f"local rejected the upload of {WHEEL} (HTTPError: 409 Conflict from "
            "http://127.0.0.1:9/ Conflict): asking again cannot change that",
            id="409-looks-again-but-never-posts-again",
        ),
        pytest.param(
            [(2, "twine upload: error: unrecognized arguments: --bogus")] * 5,
            [TWINE_TOKEN],
            5,
            ["TWINE_USERNAME/TWINE_PASSWORD"],
            [],
            0,
            f"twine could not run the upload of {WHEEL}: "
            "twine upload: error: unrecognized arguments: --bogus",
            id="usage-error-at-once",
        ),
        pytest.param(
            [(1, TWINE_OIDC_FAILED), OK],
            [TRUSTED, Credentials("PYPI_TOKEN", {"TWINE_PASSWORD": "pypi-abcdef"})],
            1,
            ["trusted publishing (GitHub OIDC)", "PYPI_TOKEN"],
            [],
            0,
            "",
            id="oidc-falls-back-without-using-an-attempt",
        ),
        pytest.param(
            [(1, TWINE_OIDC_FAILED), (1, TWINE_403)],
            [TRUSTED, Credentials("PYPI_TOKEN", {"TWINE_PASSWORD": "pypi-abcdef"})],
            3,
            ["trusted publishing (GitHub OIDC)", "PYPI_TOKEN"],
            [],
            0,
            "check the credentials from PYPI_TOKEN",
            id="refusal-names-the-fallback",
        ),
    ],
)
def test_upload_file(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    recording_index: RecordingIndex,
    answers: list[tuple[int | None, str]],
    options: list[Credentials],
    attempts: int,
    runs: list[str],
    sleeps: list[float],
    looks: int,
    error: str,
) -> None:
    """Each failed upload looks at the (empty) index once before it retries or gives up."""
    used: list[str] = []
    left = list(answers)

    def scripted_twine(
        path: Path,
        target: Target,
        credentials: Credentials,
        environ: Mapping[str, str],
        timeout: float,
    ) -> tuple[int | None, str]:
        used.append(credentials.source)
        return left.pop(0)

    monkeypatch.setattr(publish, "run_twine", scripted_twine)
    target = Target("local", LOCAL.upload_url, f"{recording_index.url}simple/")
    slept: list[float] = []
    said: list[str] = []
    wheel = tmp_path / WHEEL
    wheel.write_bytes(b"wheel")
    call = lambda: publish.upload_file(  # noqa: E731
        wheel,
        SHA_A,
        target,
        options,
        {},
        limits=Limits(attempts=attempts, timeout=2.0),
        say=said.append,
        sleep=slept.append,
    )
    if error:
        with pytest.raises(PublishError) as caught:
            call()
        assert error in str(caught.value)
        assert "\n" not in str(caught.value)
    else:
        call()
    assert used == runs
    assert slept == sleeps
    assert recording_index.requests == [("GET", "/simple/agentops-accelerator/")] * looks


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


TWINE_MINT_REFUSED = (
    "ERROR    TrustedPublishingFailure: The token request failed; the index server gave the "
    "following reasons:\n\n"
    "         * `invalid-publisher`: valid token, but no corresponding publisher (none)\n"
    "         * `invalid-reuse-token`: invalid token: already used\n"
)


@pytest.mark.parametrize(
    ("output", "reasons"),
    [
        (
            TWINE_MINT_REFUSED,
            [
                "invalid-publisher: valid token, but no corresponding publisher (none)",
                "invalid-reuse-token: invalid token: already used",
            ],
        ),
        (TWINE_OIDC_FAILED, []),  # no answer from the index: asking again may help
        (TWINE_OIDC_AUDIENCE_404, []),
    ],
)
def test_the_reasons_warehouse_minted_no_token_are_read(output: str, reasons: list[str]) -> None:
    assert twine_upload.mint_refusals(output) == reasons


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
