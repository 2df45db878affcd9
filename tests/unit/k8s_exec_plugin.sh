#!/bin/sh
# A stand-in exec credential plugin for tests/unit/test_k8s_exec.c. Counts
# its runs in $COUNTER (so the test can prove caching), saves
# KUBERNETES_EXEC_INFO to $INFO_FILE, and answers as $1 says.
n=$(cat "$COUNTER" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$COUNTER"
[ -n "$INFO_FILE" ] && printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
api=client.authentication.k8s.io/v1
case "$1" in
fail)    echo "k8s_exec_plugin: no credentials for you" >&2; exit 3 ;;
hang)    exec sleep 60 ;;
garbage) echo "this is not json" ;;
wrongapi)
    printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"tok-secret-%s"}}\n' "$n" ;;
cert)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\\nX\\n-----END CERTIFICATE-----\\n","clientKeyData":"KEY-%s"}}\n' "$api" "$n" ;;
*)
    if [ -n "$EXPIRY" ]; then exp=",\"expirationTimestamp\":\"$EXPIRY\""; else exp=; fi
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-%s"%s}}\n' "$api" "$n" "$exp" ;;
esac
