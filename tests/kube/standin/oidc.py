"""OIDC bearer tokens for the stand-in API server, as kube-apiserver's
--oidc-* flags accept them (kubernetes.io "Authenticating", OpenID Connect
Tokens): a JWT (RS256 here, the algorithm Keycloak signs ID tokens with by
default) whose signature checks against the issuer's keys, whose `iss` is
the configured issuer URL exactly, whose `aud` is (or contains) the client
id, which has not expired (`exp`) and is not from the future (`nbf`/`iat`).
The username is the configured claim; a claim other than `email` gets the
issuer URL and '#' in front unless a prefix is set ('-' for none), as the
real API server does; groups come from the groups claim (a string or a list)
with the groups prefix. The keys come from a JWKS file instead of the
issuer's discovery document: the stand-in never calls out.

Cryptography is python3-cryptography's; JSON and base64 are the standard
library's."""

import base64
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SKEW_S = 60    # clock skew allowed on exp/nbf/iat, as go-oidc's default


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int(s):
    return int.from_bytes(b64url_decode(s), "big")


class OIDCAuthenticator:
    def __init__(self, issuer, jwks_file, client_id, username_claim="sub", username_prefix=None,
                 groups_claim=None, groups_prefix=""):
        self.issuer, self.client_id = issuer, client_id
        self.username_claim, self.groups_claim = username_claim, groups_claim
        self.groups_prefix = groups_prefix or ""
        if username_prefix is None:
            username_prefix = "" if username_claim == "email" else issuer + "#"
        self.username_prefix = "" if username_prefix == "-" else username_prefix
        with open(jwks_file) as f:
            jwks = json.load(f)
        self.keys = {}
        for k in jwks.get("keys", []):
            if k.get("kty") == "RSA":
                self.keys[k.get("kid")] = rsa.RSAPublicNumbers(_int(k["e"]), _int(k["n"])).public_key()

    def _verify(self, token):
        """The token's claims when its signature checks, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            return None
        if header.get("alg") != "RS256" or not isinstance(claims, dict):
            return None
        keys = [self.keys[header["kid"]]] if header.get("kid") in self.keys else \
            ([] if header.get("kid") else list(self.keys.values()))
        for key in keys:
            try:
                key.verify(sig, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
                return claims
            except InvalidSignature:
                continue
        return None

    def _claims_ok(self, c):
        now = time.time()
        aud = c.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        exp = c.get("exp")
        return (c.get("iss") == self.issuer and self.client_id in auds and
                isinstance(exp, (int, float)) and now < exp + SKEW_S and
                not (isinstance(c.get("nbf"), (int, float)) and now + SKEW_S < c["nbf"]) and
                not (isinstance(c.get("iat"), (int, float)) and now + SKEW_S < c["iat"]))

    def authenticate(self, token):
        """{"username", "groups"} for a valid token, else None (401)."""
        c = self._verify(token)
        if c is None or not self._claims_ok(c):
            return None
        if self.username_claim == "email" and c.get("email_verified") is False:
            return None
        name = c.get(self.username_claim)
        if not isinstance(name, str) or not name:
            return None
        groups = c.get(self.groups_claim, []) if self.groups_claim else []
        groups = [groups] if isinstance(groups, str) else groups
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            return None
        return {"username": self.username_prefix + name,
                "groups": [self.groups_prefix + g for g in groups] + ["system:authenticated"]}


def add_args(p):
    """The kube-apiserver flags of the same names (a JWKS file for the keys)."""
    p.add_argument("--oidc-issuer-url", help="accept OIDC ID tokens from this issuer (exact iss)")
    p.add_argument("--oidc-jwks", help="JWKS file (JSON) with the issuer's RSA signing keys")
    p.add_argument("--oidc-client-id", help="the aud the tokens must carry")
    p.add_argument("--oidc-username-claim", default="sub")
    p.add_argument("--oidc-username-prefix", default=None)
    p.add_argument("--oidc-groups-claim", default=None)
    p.add_argument("--oidc-groups-prefix", default="")


def from_opts(opts):
    """An authenticator when --oidc-issuer-url is given (with its key file
    and client id, as the API server requires), else None."""
    if not opts.oidc_issuer_url:
        return None
    if not opts.oidc_jwks or not opts.oidc_client_id:
        raise SystemExit("--oidc-issuer-url needs --oidc-jwks and --oidc-client-id")
    return OIDCAuthenticator(opts.oidc_issuer_url, opts.oidc_jwks, opts.oidc_client_id,
                             opts.oidc_username_claim, opts.oidc_username_prefix,
                             opts.oidc_groups_claim, opts.oidc_groups_prefix)
