"""PKI for the stand-in: a throw-away CA, a serving cert and an admin client
cert, plus the kubeconfig a real kubectl uses to reach us.

A real cluster's admin kubeconfig carries the client certificate inline
(client-certificate-data); we do the same so kubectl exercises mutual TLS,
and also write the pieces as files (and a bearer token) for clients that
want them.
"""
import base64
import datetime
import ipaddress
import os
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn, org=None):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _issue(subject, key, issuer, issuer_key, *, ca=False, server=False, sans=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         # backdate a little: clocks of client and server are the same here,
         # but Go rejects certs whose NotBefore is a few ms in the future.
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=365)))
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                          content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False,
                                          encipher_only=False, decipher_only=False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                          content_commitment=False, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
        eku = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    if sans:
        names = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


class PKI:
    """Paths and PEM bytes of everything make_pki wrote."""

    def __init__(self, state_dir):
        self.dir = state_dir
        self.ca_crt = os.path.join(state_dir, "ca.crt")
        self.ca_key = os.path.join(state_dir, "ca.key")
        self.server_crt = os.path.join(state_dir, "server.crt")
        self.server_key = os.path.join(state_dir, "server.key")
        self.client_crt = os.path.join(state_dir, "client.crt")
        self.client_key = os.path.join(state_dir, "client.key")
        self.token_file = os.path.join(state_dir, "token")
        self.kubeconfig = os.path.join(state_dir, "kubeconfig")

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    @property
    def token(self):
        return self.read(self.token_file).decode().strip()


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def make_pki(state_dir, user_cn="paasctl-admin", user_org="system:masters"):
    """Create (or reuse, so a restart keeps kubeconfigs valid) the PKI."""
    p = PKI(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    if all(os.path.exists(x) for x in (p.ca_crt, p.ca_key, p.server_crt, p.server_key,
                                      p.client_crt, p.client_key, p.token_file)):
        return p
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("kubernetes-ca")
    ca = _issue(ca_name, ca_key, ca_name, ca_key, ca=True)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = _issue(_name("kube-apiserver"), srv_key, ca_name, ca_key, server=True,
                 sans=("127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default",
                       "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1"))
    cli_key = ec.generate_private_key(ec.SECP256R1())
    cli = _issue(_name(user_cn, user_org), cli_key, ca_name, ca_key)
    _write(p.ca_crt, _pem_cert(ca), 0o644)
    _write(p.ca_key, _pem_key(ca_key))
    _write(p.server_crt, _pem_cert(srv), 0o644)
    _write(p.server_key, _pem_key(srv_key))
    _write(p.client_crt, _pem_cert(cli), 0o644)
    _write(p.client_key, _pem_key(cli_key))
    _write(p.token_file, (secrets.token_hex(24) + "\n").encode())
    return p


def write_kubeconfig(pki, server_url, context, user="paasctl-admin"):
    """An admin kubeconfig like kubeadm's admin.conf, with data inline."""
    b64 = lambda path: base64.b64encode(pki.read(path)).decode()
    cluster = context
    text = (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {cluster}\n"
        "  cluster:\n"
        f"    server: {server_url}\n"
        f"    certificate-authority-data: {b64(pki.ca_crt)}\n"
        "contexts:\n"
        f"- name: {context}\n"
        "  context:\n"
        f"    cluster: {cluster}\n"
        f"    user: {user}\n"
        f"current-context: {context}\n"
        "preferences: {}\n"
        "users:\n"
        f"- name: {user}\n"
        "  user:\n"
        f"    client-certificate-data: {b64(pki.client_crt)}\n"
        f"    client-key-data: {b64(pki.client_key)}\n"
    )
    _write(pki.kubeconfig, text.encode())
    return pki.kubeconfig


def serve_with_ca(pki, ca_cert, ca_key, names=()):
    """--ca-cert/--ca-key: a serving certificate signed by a given CA (a
    paasctl slot's cluster CA, as kubeadm's apiserver.crt is), for
    127.0.0.1, localhost and `names` (e.g. api.a.k8s.ZONE). Returns
    (server_crt, server_key, client_ca): client certificates are then
    checked against that CA only, as a real kube-apiserver's --client-ca-file.
    The bearer token keeps working for the test control API."""
    with open(ca_cert, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(ca_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = _issue(_name("kube-apiserver"), srv_key, ca.subject, key, server=True,
                 sans=("127.0.0.1", "localhost", *names))
    crt_path = os.path.join(pki.dir, "slot-server.crt")
    key_path = os.path.join(pki.dir, "slot-server.key")
    _write(crt_path, _pem_cert(srv), 0o644)
    _write(key_path, _pem_key(srv_key))
    return crt_path, key_path, ca_cert


def serving(pki, opts):
    """The (server cert, server key, client CA) the TLS context uses."""
    if getattr(opts, "ca_cert", None):
        return serve_with_ca(pki, opts.ca_cert, opts.ca_key, opts.server_name or ())
    return pki.server_crt, pki.server_key, pki.ca_crt
