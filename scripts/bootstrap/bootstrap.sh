#!/bin/sh
# paasctl node bootstrap (scripts/bootstrap/bootstrap.sh, uploaded as is to
# each slot's config bucket). Run once at first boot by the user data with
# /etc/paasctl/env in place; the role decides what the node becomes:
#   auth     the Keycloak server at auth.SLOT.DNS_ZONE
#   master   the Kubernetes control plane at api.SLOT.DNS_ZONE
#   ingress  a worker running the nginx ingress on the host network, the
#            node the ELBs send traffic to
#   minion   a plain worker
# The master publishes the join command to the bucket (under secret/, which
# never leaves the bucket); workers wait for it. Re-running is harmless.
set -eu

. /etc/paasctl/env
log() { echo "paasctl-bootstrap[$PAASCTL_ROLE]: $*" >&2; }
s3() { aws --region "$PAASCTL_REGION" s3 "$@"; }

install_runtime() {
    log "installing containerd and kubeadm"
    apt-get update -q
    apt-get install -y -q containerd kubeadm kubelet kubectl
    systemctl enable --now containerd kubelet
}

setup_master() {
    if [ ! -f /etc/kubernetes/admin.conf ]; then
        kubeadm init --control-plane-endpoint "$PAASCTL_API_HOST:6443" \
            --apiserver-cert-extra-sans "$PAASCTL_API_HOST" \
            --pod-network-cidr 192.168.0.0/16
    fi
    kubeadm token create --ttl 24h --print-join-command >/tmp/join.sh
    s3 cp /tmp/join.sh "s3://$PAASCTL_BUCKET/secret/join.sh" --sse AES256
    rm -f /tmp/join.sh
}

join_cluster() {
    [ -f /etc/kubernetes/kubelet.conf ] && return 0
    n=0
    until s3 cp "s3://$PAASCTL_BUCKET/secret/join.sh" /tmp/join.sh 2>/dev/null; do
        n=$((n + 1))
        [ "$n" -gt 120 ] && { log "no join command after 20 minutes"; exit 1; }
        sleep 10
    done
    if [ "$PAASCTL_ROLE" = ingress ]; then
        echo "KUBELET_EXTRA_ARGS=--node-labels=paasctl/role=ingress" >/etc/default/kubelet
    fi
    sh /tmp/join.sh
    rm -f /tmp/join.sh
}

setup_auth() {
    log "starting Keycloak for $PAASCTL_AUTH_HOST"
    apt-get update -q
    apt-get install -y -q docker.io
    docker run -d --restart always --name keycloak -p 443:8443 -p 80:8080 \
        -e KC_HOSTNAME="$PAASCTL_AUTH_HOST" quay.io/keycloak/keycloak start-dev
}

case "$PAASCTL_ROLE" in
    auth) setup_auth ;;
    master) install_runtime; setup_master ;;
    ingress|minion) install_runtime; join_cluster ;;
    *) log "unknown role '$PAASCTL_ROLE'"; exit 1 ;;
esac
log "done"
