"""Independent peers for spoc's OCI tests: oras-py (the ORAS project's Python client) moves
artifacts; Python `cryptography` + PyNaCl implement cosign's key format and signature checks
without any of spoc's code. Usage: peer.py COMMAND ARGS... (see the functions below)."""
import base64
import hashlib
import json
import os
import sys

import oras.client
import oras.container
import oras.oci


def client(host, user=None, password=None, tls_ca=None):
    insecure = tls_ca is None
    c = oras.client.OrasClient(hostname=host, insecure=insecure,
                               auth_backend="basic" if user else "token")
    if tls_ca:
        c.session.verify = tls_ca
    if user:
        c.login(username=user, password=password, hostname=host, insecure=insecure)
    return c


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(c, target, data, tmpdir):
    """Uploads `data` as a blob of `target`'s repository; returns its descriptor base."""
    path = os.path.join(tmpdir, digest(data).replace(":", "_"))
    with open(path, "wb") as f:
        f.write(data)
    layer = {"mediaType": "application/octet-stream", "digest": digest(data), "size": len(data)}
    r = c.upload_blob(path, c.get_container(target), layer)
    assert r.status_code in (200, 201, 202), (r.status_code, r.text)
    return layer


def push_layers(host, target, layers, tmpdir, media_type="application/vnd.oci.image.layer.v1.tar",
                artifact_type="application/vnd.unknown.config.v1+json"):
    """Pushes upstream SPO's exact layout: empty config, one layer per (title, platform, data)."""
    c = client(host)
    upload(c, target, b"{}", tmpdir)
    descs = []
    for title, platform, data in layers:
        d = upload(c, target, data, tmpdir)
        d["mediaType"] = media_type
        d["annotations"] = {"org.opencontainers.image.title": title}
        if platform:
            os_, arch = platform.split("/")[:2]
            d["platform"] = {"architecture": arch, "os": os_}
        descs.append(d)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": digest(b"{}"), "size": 2, "data": "e30="},
        "layers": descs,
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    }
    r = c.upload_manifest(manifest, c.get_container(target))
    assert r.status_code in (200, 201), (r.status_code, r.text)


def cmd_push_upstream(host, target, tmpdir, *pairs):
    """push-upstream HOST TARGET TMPDIR FILE PLATFORM [FILE PLATFORM]..."""
    layers = []
    for f, p in zip(pairs[::2], pairs[1::2]):
        title = "profile-%s.yaml" % p.replace("/", "-")
        layers.append((title, p, open(f, "rb").read()))
    push_layers(host, target, layers, tmpdir)


def cmd_push_file(host, target, tmpdir, title, path, media_type):
    """push-file HOST TARGET TMPDIR TITLE FILE MEDIATYPE: one layer, no platform."""
    push_layers(host, target, [(title, None, open(path, "rb").read())], tmpdir, media_type)


def cmd_pull(host, target, outdir):
    """pull HOST TARGET OUTDIR: oras-py's own pull; prints the files it wrote."""
    files = client(host).pull(target=target, outdir=outdir)
    for f in sorted(files):
        print(os.path.basename(f))


def cmd_manifest(host, target):
    print(json.dumps(client(host).remote.get_manifest(target)))


# --- cosign's key format and signatures, implemented independently ---------------------------

def _scrypt_key(password, salt, n, r, p):
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password)


def _pem_body(text, label):
    lines = text.strip().splitlines()
    assert lines[0] == "-----BEGIN %s-----" % label, lines[0]
    assert lines[-1] == "-----END %s-----" % label, lines[-1]
    return base64.b64decode("".join(lines[1:-1]))


def open_cosign_key(path, password):
    import nacl.secret
    from cryptography.hazmat.primitives.serialization import load_der_private_key
    doc = json.loads(_pem_body(open(path).read(), "ENCRYPTED SIGSTORE PRIVATE KEY"))
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox", doc
    prm = doc["kdf"]["params"]
    key = _scrypt_key(password.encode(), base64.b64decode(doc["kdf"]["salt"]),
                      prm["N"], prm["r"], prm["p"])
    der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]),
                                             base64.b64decode(doc["cipher"]["nonce"]))
    return load_der_private_key(der, password=None)


def cmd_check_key(key_path, pub_path, password):
    """check-key KEY PUB PASSWORD: opens a cosign.key and checks it matches cosign.pub."""
    from cryptography.hazmat.primitives import serialization
    priv = open_cosign_key(key_path, password)
    mine = priv.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    theirs = serialization.load_pem_public_key(open(pub_path, "rb").read()).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert mine == theirs, "public key does not match the private key"
    print("ok", priv.curve.name)


def cmd_keygen(key_path, pub_path, password):
    """keygen KEY PUB PASSWORD: writes a cosign-format key pair (scrypt N=2^15, secretbox)."""
    import nacl.secret
    import nacl.utils
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    priv = ec.generate_private_key(ec.SECP256R1())
    der = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    salt = os.urandom(32)
    key = _scrypt_key(password.encode(), salt, 32768, 8, 1)
    nonce = nacl.utils.random(24)
    ct = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
                   "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(ct).decode()}
    body = base64.b64encode(json.dumps(doc).encode()).decode()
    with open(key_path, "w") as f:
        f.write("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        for i in range(0, len(body), 64):
            f.write(body[i:i + 64] + "\n")
        f.write("-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    with open(pub_path, "wb") as f:
        f.write(priv.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))


def cmd_cosign_verify(host, repo, manifest_digest, pub_path):
    """cosign-verify HOST REPO DIGEST PUB: what `cosign verify --key` checks, done with
    oras-py + cryptography: the sha256-<hex>.sig manifest, its SimpleSigning layers, the
    ECDSA signature over the payload, and the payload naming DIGEST."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    c = client(host)
    tag = manifest_digest.replace(":", "-") + ".sig"
    m = c.get_manifest("%s/%s:%s" % (host, repo, tag))
    pub = serialization.load_pem_public_key(open(pub_path, "rb").read())
    container = c.get_container("%s/%s:%s" % (host, repo, tag))
    for layer in m["layers"]:
        assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
        payload = c.get_blob(container, layer["digest"]).content
        assert digest(payload) == layer["digest"]
        sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        try:
            pub.verify(sig, payload, ec.ECDSA(hashes.SHA256()))
        except Exception:
            continue
        p = json.loads(payload)
        assert p["critical"]["type"] == "cosign container image signature"
        assert p["critical"]["image"]["docker-manifest-digest"] == manifest_digest
        assert p["critical"]["identity"]["docker-reference"] == "%s/%s" % (host, repo)
        print("verified")
        return
    sys.exit("no valid signature")


def cmd_rekor_keygen(key_path, pub_path):
    """rekor-keygen KEY PUB: an ECDSA P-256 key pair standing in for a Rekor log's key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    k = ec.generate_private_key(ec.SECP256R1())
    open(key_path, "wb").write(k.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    open(pub_path, "wb").write(k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def cmd_spent_fulcio(outdir, email, issuer):
    """spent-fulcio OUTDIR EMAIL ISSUER: a Fulcio-like P-384 root and intermediate valid since
    yesterday, and a P-256 leaf that was valid for one hour, two to three hours ago (like a
    spent 10-minute Fulcio certificate). Writes root.pem, chain.pem, leaf.pem, leaf.key."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    name = lambda cn: x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spo-test"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ca(subject, key, issuer_name, issuer_key):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - day).not_valid_after(now + day)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA384()))
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = ca(name("spent-root"), root_key, name("spent-root"), root_key)
    int_key = ec.generate_private_key(ec.SECP384R1())
    inter = ca(name("spent-intermediate"), int_key, root.subject, root_key)
    key = ec.generate_private_key(ec.SECP256R1())
    raw_issuer = issuer.encode()
    der_issuer = bytes([0x0C, len(raw_issuer)]) + raw_issuer  # DER UTF8String
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spo-test")]))
            .issuer_name(inter.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=3))
            .not_valid_after(now - datetime.timedelta(hours=2))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), der_issuer), critical=False)
            .sign(int_key, hashes.SHA384()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    open(os.path.join(outdir, "root.pem"), "wb").write(pem(root))
    open(os.path.join(outdir, "chain.pem"), "wb").write(pem(inter) + pem(root))
    open(os.path.join(outdir, "leaf.pem"), "wb").write(pem(leaf))
    open(os.path.join(outdir, "leaf.key"), "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def _mth(leaves):
    """RFC 6962 section 2.1 Merkle tree hash, recursively."""
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two below n
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _audit_path(m, leaves):
    """RFC 6962 section 2.1.1 PATH(m, D[n]), recursively."""
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return _audit_path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _audit_path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def _checkpoint(key, origin, size, root):
    """A signed note as Rekor writes checkpoints: body, blank line, '— name b64(hint+sig)'."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    body = "%s\n%d\n%s\n" % (origin, size, base64.b64encode(root).decode())
    sig = key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))
    hint = hashlib.sha256(spki).digest()[:4]
    return body + "\n\u2014 %s %s\n" % (origin.split(" ")[0], base64.b64encode(hint + sig).decode())


LOG_INDEX = 6
TREE_SIZE = 11


def inclusion_proof(rk, body_bytes, mode):
    """An inclusion proof of body_bytes at LOG_INDEX in a TREE_SIZE-entry log, in the Rekor
    API's shape, honest or tampered: bad-path, bad-root, forged-checkpoint (signed by another
    key), lying-checkpoint (the log's key signs a root without the entry), wrong-index."""
    from cryptography.hazmat.primitives.asymmetric import ec
    leaf = lambda d: hashlib.sha256(b"\x00" + d).digest()
    leaves = [leaf(b"other entry %d" % i) for i in range(TREE_SIZE)]
    leaves[LOG_INDEX] = leaf(body_bytes)
    root = _mth(leaves)
    path = _audit_path(LOG_INDEX, leaves)
    index, signer = LOG_INDEX, rk
    proof_root = cp_root = root
    if mode == "bad-path":
        path[1] = bytes([path[1][0] ^ 1]) + path[1][1:]
    elif mode == "bad-root":
        proof_root = hashlib.sha256(b"another root").digest()
    elif mode == "forged-checkpoint":
        proof_root = cp_root = hashlib.sha256(b"another root").digest()
        signer = ec.generate_private_key(ec.SECP256R1())
    elif mode == "lying-checkpoint":
        proof_root = cp_root = hashlib.sha256(b"another root").digest()
    elif mode == "wrong-index":
        index = LOG_INDEX + 1
    elif mode != "good":
        raise SystemExit("unknown proof mode " + mode)
    return {"logIndex": index, "rootHash": proof_root.hex(), "treeSize": TREE_SIZE,
            "hashes": [h.hex() for h in path],
            "checkpoint": _checkpoint(signer, "spo-test-rekor - 1234", TREE_SIZE, cp_root)}


def _der_octet_string(data):
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return b"\x04" + length + data


def cmd_ct_fulcio(outdir, email, issuer):
    """ct-fulcio OUTDIR EMAIL ISSUER: a Fulcio-like CA (P-384 root + intermediate), two CT
    log keys (ct.key/ct.pub trusted, other-ct.pub not), and P-256 leaves valid for the next
    hour made the RFC 6962 way (a poisoned precertificate, the log's SCT over its TBS and the
    issuer key hash, then the final certificate with the SCT list): leaf.pem (SCT by ct),
    leaf-othersct.pem (SCT by the other log), leaf-badsct.pem (SCT whose signature covers
    another timestamp), leaf-nosct.pem (no SCT). Writes root.pem, chain.pem, leaf.key too."""
    import datetime
    import struct
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    hour = datetime.timedelta(hours=1)
    name = lambda cn: x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spo-test"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    spki = lambda k: k.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    out = lambda n: os.path.join(outdir, n)

    def ca(subject, key, issuer_name, issuer_key):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - 24 * hour).not_valid_after(now + 24 * hour)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA384()))
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = ca(name("ct-root"), root_key, name("ct-root"), root_key)
    int_key = ec.generate_private_key(ec.SECP384R1())
    inter = ca(name("ct-intermediate"), int_key, root.subject, root_key)
    ct_key = ec.generate_private_key(ec.SECP256R1())
    other_ct = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    raw_issuer = issuer.encode()
    der_issuer = bytes([0x0C, len(raw_issuer)]) + raw_issuer

    def leaf_builder():
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "spo-test")]))
                .issuer_name(inter.subject).public_key(key.public_key()).serial_number(serial)
                .not_valid_before(now - hour).not_valid_after(now + hour)
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                .add_extension(x509.UnrecognizedExtension(
                    x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), der_issuer), critical=False))
    # The TBS a CT log signs omits both the poison and the SCT list, so any certificate of
    # these fields with an SCT list (here a placeholder) yields it.
    placeholder = struct.pack(">H", 3) + b"\x00\x01\x00"
    tbs = leaf_builder().add_extension(x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), _der_octet_string(placeholder)),
        critical=False).sign(int_key, hashes.SHA384()).tbs_precertificate_bytes
    issuer_key_hash = hashlib.sha256(spki(int_key)).digest()
    ts = int(now.timestamp() * 1000)

    def sct(log_key, signed_ts):
        signed = (b"\x00\x00" + struct.pack(">Q", signed_ts) + b"\x00\x01" + issuer_key_hash
                  + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00")
        sig = log_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        body = (b"\x00" + hashlib.sha256(spki(log_key)).digest() + struct.pack(">Q", ts)
                + b"\x00\x00" + b"\x04\x03" + struct.pack(">H", len(sig)) + sig)
        return struct.pack(">H", len(body)) + body

    def final(sct_bytes):
        b = leaf_builder()
        if sct_bytes is not None:
            lst = struct.pack(">H", len(sct_bytes)) + sct_bytes
            b = b.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), _der_octet_string(lst)),
                critical=False)
        c = b.sign(int_key, hashes.SHA384())
        if sct_bytes is not None:
            assert c.tbs_precertificate_bytes == tbs, "precertificate TBS differs"
        return c
    for fname, scts in [("leaf.pem", sct(ct_key, ts)),
                        ("leaf-othersct.pem", sct(other_ct, ts)),
                        ("leaf-badsct.pem", sct(ct_key, ts + 1)),
                        ("leaf-nosct.pem", None)]:
        open(out(fname), "wb").write(pem(final(scts)))
    open(out("root.pem"), "wb").write(pem(root))
    open(out("chain.pem"), "wb").write(pem(inter) + pem(root))
    open(out("leaf.key"), "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    for fname, k in [("ct.pub", ct_key), ("other-ct.pub", other_ct)]:
        open(out(fname), "wb").write(k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def rekor_bundle(rekor_key_path, payload, sig_b64, leaf_pem_bytes, integrated_time,
                 proof_mode=None):
    """A cosign Rekor bundle: a hashedrekord entry and its signed entry timestamp, and with
    proof_mode an `InclusionProof` (see inclusion_proof)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    rk = serialization.load_pem_private_key(open(rekor_key_path, "rb").read(), password=None)
    spki = rk.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    entry = {"apiVersion": "0.0.1", "kind": "hashedrekord",
             "spec": {"data": {"hash": {"algorithm": "sha256",
                                        "value": hashlib.sha256(payload).hexdigest()}},
                      "signature": {"content": sig_b64,
                                    "publicKey": {"content": base64.b64encode(leaf_pem_bytes).decode()}}}}
    body = {"body": base64.b64encode(json.dumps(entry).encode()).decode(),
            "integratedTime": int(integrated_time), "logIndex": LOG_INDEX,
            "logID": hashlib.sha256(spki).hexdigest()}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    set_ = base64.b64encode(rk.sign(canonical, ec.ECDSA(hashes.SHA256()))).decode()
    bundle = {"SignedEntryTimestamp": set_, "Payload": body}
    if proof_mode:
        bundle["InclusionProof"] = inclusion_proof(rk, json.dumps(entry).encode(), proof_mode)
    return json.dumps(bundle)


def cmd_keyless_sign(host, repo, manifest_digest, leaf_key, leaf_pem, chain_pem, tmpdir,
                     rekor_key=None, integrated_time=None, proof_mode=None):
    """keyless-sign HOST REPO DIGEST LEAF.KEY LEAF.PEM CHAIN.PEM TMPDIR [REKOR.KEY TIME
    [PROOF-MODE]]: stores a keyless cosign signature (certificate + chain annotations, and a
    Rekor bundle when a Rekor key is given, with an inclusion proof for PROOF-MODE) made
    with a Fulcio-style leaf key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = serialization.load_pem_private_key(open(leaf_key, "rb").read(), password=None)
    payload = json.dumps({"critical": {"identity": {"docker-reference": "%s/%s" % (host, repo)},
                                       "image": {"docker-manifest-digest": manifest_digest},
                                       "type": "cosign container image signature"},
                          "optional": None}).encode()
    sig = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    target = "%s/%s:%s" % (host, repo, manifest_digest.replace(":", "-") + ".sig")
    c = client(host)
    config = json.dumps({"architecture": "", "os": "", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [digest(payload)]}}).encode()
    upload(c, target, config, tmpdir)
    upload(c, target, payload, tmpdir)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": digest(payload), "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": sig,
                                    "dev.sigstore.cosign/certificate": open(leaf_pem).read(),
                                    "dev.sigstore.cosign/chain": open(chain_pem).read()}}],
    }
    if rekor_key:
        manifest["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] = rekor_bundle(
            rekor_key, payload, sig, open(leaf_pem, "rb").read(), integrated_time, proof_mode)
    r = c.upload_manifest(manifest, c.get_container(target))
    assert r.status_code in (200, 201), (r.status_code, r.text)


def cmd_token_server(port, cert_pem, key_pem, user, password, issuer, service):
    """token-server PORT CERT KEY USER PASS ISSUER SERVICE: a registry token service (the
    Docker/distribution bearer-token protocol): basic credentials in, an ES256 JWT with an
    x5c header and the requested repository access out; USER "-" grants tokens to anyone
    (anonymous tokens, as public registries hand out). Serves until killed."""
    import http.server
    import time
    import urllib.parse
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = serialization.load_pem_private_key(open(key_pem, "rb").read(), password=None)
    der = x509.load_pem_x509_certificate(open(cert_pem, "rb").read()).public_bytes(
        serialization.Encoding.DER)
    b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    want = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if user != "-" and self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            access = []
            for scope in q.get("scope", []):
                kind, name, actions = scope.split(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
            claims = {"iss": issuer, "sub": user, "aud": service, "exp": now + 300,
                      "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
            signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
            r, s_ = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
            token = signing_input + "." + b64u(r.to_bytes(32, "big") + s_.to_bytes(32, "big"))
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.HTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    name = sys.argv[1].replace("-", "_")
    globals()["cmd_" + name](*sys.argv[2:])
