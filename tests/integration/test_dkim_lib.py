"""The DKIM library (mail/dkim_*.c, through tests/dkimtool) held against dkimpy (Debian's
python3-dkim), both ways: what tern signs dkimpy verifies, what dkimpy signs (simple and
relaxed, rsa-sha256 and ed25519-sha256) tern verifies, and a changed body fails either way.
The key records are given directly (dkimpy's dnsfunc, dkimtool's argument): no DNS."""
import base64
import os
import subprocess

import pytest

import dkim  # python3-dkim (bootstrap installs it): without it this fails

BUILDDIR = os.environ.get("TERN_BUILDDIR", os.getcwd())
DKIMTOOL = os.path.join(BUILDDIR, "tests", "dkimtool")
DOMAIN = "example.com"
SELECTOR = "sel"

MESSAGE = (
    b"Received: from relay.example.net by mx.example.org; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>,\r\n"
    b"\t Carol <carol@example.org>\r\n"
    b"Subject:   A  test\t of DKIM   \r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"Message-ID: <dkim-test@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Hello Bob,  \r\n"
    b"\r\n"
    b"  some  white\t space \t\r\n"
    b"and the end.\r\n"
    b"\r\n"
    b"\r\n"
)


def run(args, data=b""):
    done = subprocess.run([DKIMTOOL] + args, input=data, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Per algorithm: tern's key file (PKCS#8 PEM), dkimpy's private key and the record, the
    latter made from the key by openssl and PyNaCl, not by tern."""
    d = tmp_path_factory.mktemp("dkimkeys")
    out = {}
    rsa = d / "rsa.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", str(rsa)], check=True, capture_output=True)
    traditional = subprocess.run(["openssl", "rsa", "-in", str(rsa), "-traditional"],
                                 check=True, capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-in", str(rsa), "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    out["rsa"] = (str(rsa), traditional,
                  "v=DKIM1; k=rsa; p=" + base64.b64encode(spki).decode())
    ed = d / "ed25519.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(ed)],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(ed), "-outform", "DER"],
                         check=True, capture_output=True).stdout
    seed = der[-32:]   # PKCS#8 of an Ed25519 key ends in the 32 byte seed
    import nacl.signing
    public = bytes(nacl.signing.SigningKey(seed).verify_key)
    out["ed25519"] = (str(ed), base64.b64encode(seed),
                      "v=DKIM1; k=ed25519; p=" + base64.b64encode(public).decode())
    return out


def dnsfunc_for(record):
    def dnsfunc(name, timeout=5):
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return record.encode()
    return dnsfunc


def changed(signed):
    return signed.replace(b"and the end.", b"and the END.")


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
def test_record_matches_openssl(keys, alg):
    keyfile, _, record = keys[alg]
    assert run(["record", keyfile]).decode().strip() == record


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
def test_tern_signs_dkimpy_verifies(keys, alg):
    keyfile, _, record = keys[alg]
    signed = run(["sign", keyfile, DOMAIN, SELECTOR], MESSAGE)
    assert signed.startswith(b"DKIM-Signature: v=1; a=" +
                             (b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256") +
                             b"; c=relaxed/relaxed;")
    assert signed.endswith(MESSAGE)
    assert all(len(line) <= 78 + 7 for line in signed.split(b"\r\n"))
    assert dkim.verify(signed, dnsfunc=dnsfunc_for(record))
    assert not dkim.verify(changed(signed), dnsfunc=dnsfunc_for(record))
    # and tern agrees with itself
    assert run(["verify", record], signed) == b"pass ()\n"


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
@pytest.mark.parametrize("canon", [b"simple", b"relaxed"])
def test_dkimpy_signs_tern_verifies(keys, alg, canon):
    _, private, record = keys[alg]
    sig = dkim.sign(MESSAGE, SELECTOR.encode(), DOMAIN.encode(), private,
                    canonicalize=(canon, canon),
                    signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256")
    signed = sig + MESSAGE
    assert dkim.verify(signed, dnsfunc=dnsfunc_for(record))
    assert run(["verify", record], signed) == b"pass ()\n"
    assert run(["verify", record], changed(signed)) == b"fail (body hash did not verify)\n"
    header_changed = signed.replace(b"Subject:   A  test", b"Subject:   A  TEST")
    assert run(["verify", record], header_changed) == b"fail (signature did not verify)\n"


def test_dkimpy_both_signatures(keys):
    """Two signatures of different kinds on one message: each verifies with its key."""
    _, rsa_private, rsa_record = keys["rsa"]
    _, ed_private, ed_record = keys["ed25519"]
    first = dkim.sign(MESSAGE, SELECTOR.encode(), DOMAIN.encode(), rsa_private,
                      canonicalize=(b"simple", b"simple"))
    second = dkim.sign(first + MESSAGE, SELECTOR.encode(), DOMAIN.encode(), ed_private,
                       canonicalize=(b"relaxed", b"relaxed"),
                       signature_algorithm=b"ed25519-sha256")
    signed = second + first + MESSAGE
    assert run(["verify", ed_record], signed) == (
        b"pass ()\npermerror (key type does not match a=)\n")
    assert run(["verify", rsa_record], signed) == (
        b"permerror (key type does not match a=)\npass ()\n")
