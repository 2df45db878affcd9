#!/bin/sh
# paasctl node bootstrap (scripts/bootstrap/bootstrap.sh, uploaded to each
# slot's bucket; SPEC.md "Clusters", Bootstrap). Run by the user data with
# /etc/paasctl/env and /etc/paasctl/s3.sh in place, on stock Ubuntu 24.04 or
# Debian 12. The role decides what the node becomes:
#   auth     the Keycloak server at auth.SLOT.k8s.DNS_ZONE
#   master   the control plane (kubeadm init with the slot's CAs from the
#            bucket; later masters join it), then the pod network and the
#            ingress controller
#   ingress  a worker labelled for the NGINX ingress DaemonSet (host network)
#   minion   a plain worker
# Workers join with the bootstrap token and the CA hash from their env file:
# nobody waits for anybody to publish anything. Every step checks first and
# changes only what differs, so running it again on a finished node changes
# nothing. Nothing secret is printed. PAASCTL_PREFIX (tests only) is a fake
# root under which every file is read and written.
set -eu
umask 077
P=${PAASCTL_PREFIX:-}
# shellcheck source=/dev/null
. "$P/etc/paasctl/env"
# shellcheck source=/dev/null
. "$P/etc/paasctl/s3.sh"
export DEBIAN_FRONTEND=noninteractive
K8S_MINOR=${PAASCTL_K8S_VERSION%.*}
KUBECONFIG=$P/etc/kubernetes/admin.conf
export KUBECONFIG

log() { echo "paasctl-bootstrap[$PAASCTL_ROLE]: $*" >&2; }

# put FILE MODE < content: writes FILE only when its content differs.
# Returns 0 when it wrote, 1 when FILE was already so.
put() {
    mkdir -p "$(dirname "$1")"
    tmp=$(mktemp "$1.XXXXXX")
    cat >"$tmp"
    chmod "$2" "$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$1"
    return 0
}

installed() {   # installed PKG [VERSION-PREFIX]
    v=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null || true)
    case "$v" in "install ok installed ${2:-}"*) return 0 ;; esac
    return 1
}

# --- the node's identity (IMDSv2) -------------------------------------------
identity() {
    imds_token
    NODE_NAME=$(imds_get meta-data/local-hostname)
    INSTANCE_ID=$(imds_get meta-data/instance-id)
    ZONE=$(imds_get meta-data/placement/availability-zone)
    PROVIDER_ID="aws:///$ZONE/$INSTANCE_ID"
    log "node $NODE_NAME ($PROVIDER_ID), Kubernetes $PAASCTL_K8S_VERSION"
}

# --- kernel: modules and sysctls kubeadm's preflight wants --------------------
kernel() {
    printf 'overlay\nbr_netfilter\n' | put "$P/etc/modules-load.d/paasctl-k8s.conf" 644 || true
    for m in overlay br_netfilter; do
        [ -d "$P/sys/module/$m" ] || modprobe "$m"
    done
    if printf '%s\n' 'net.bridge.bridge-nf-call-iptables = 1' \
            'net.bridge.bridge-nf-call-ip6tables = 1' 'net.ipv4.ip_forward = 1' |
            put "$P/etc/sysctl.d/99-paasctl-k8s.conf" 644; then
        sysctl --system >/dev/null
    fi
}

# --- container runtime: the distribution's containerd, systemd cgroups -------
runtime() {
    if ! installed containerd; then
        apt-get update -q
        apt-get install -y -q containerd
    fi
    if containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' |
            put "$P/etc/containerd/config.toml" 644; then
        systemctl enable containerd
        systemctl restart containerd
    fi
}

# --- kubeadm, kubelet, kubectl: exactly PAASCTL_K8S_VERSION, held --------------
packages() {
    keyring=$P/etc/apt/keyrings/kubernetes-apt-keyring.gpg
    repo=https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/
    changed=0
    if [ ! -s "$keyring" ]; then
        installed gpg || { apt-get update -q; apt-get install -y -q gpg; }
        mkdir -p "$P/etc/apt/keyrings"
        curl -fsSL "${repo}Release.key" | gpg --dearmor -o "$keyring"
        changed=1
    fi
    echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] $repo /" |
        put "$P/etc/apt/sources.list.d/kubernetes.list" 644 && changed=1
    if installed kubeadm "$PAASCTL_K8S_VERSION-" && installed kubelet "$PAASCTL_K8S_VERSION-" &&
            installed kubectl "$PAASCTL_K8S_VERSION-"; then
        return 0
    fi
    [ "$changed" = 0 ] || apt-get update -q
    apt-get install -y -q --allow-change-held-packages \
        "kubelet=$PAASCTL_K8S_VERSION-*" "kubeadm=$PAASCTL_K8S_VERSION-*" \
        "kubectl=$PAASCTL_K8S_VERSION-*"
    apt-mark hold kubelet kubeadm kubectl >/dev/null
}

# --- kubeadm configuration -----------------------------------------------------
kubeadm_api() {   # v1beta4 from kubeadm 1.31 on, v1beta3 before
    case "$K8S_MINOR" in 1.2[0-9]|1.30) echo kubeadm.k8s.io/v1beta3 ;; *) echo kubeadm.k8s.io/v1beta4 ;; esac
}

# Per-node kubelet settings go in a kubeadm patch (join takes no
# KubeletConfiguration of its own): the providerID smoke check 2 matches.
kubelet_patch() {
    mkdir -p "$P/etc/paasctl/patches"
    printf 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nproviderID: "%s"\n' \
        "$PROVIDER_ID" | put "$P/etc/paasctl/patches/kubeletconfiguration+merge.yaml" 600 || true
    if [ "$PAASCTL_ROLE" = ingress ]; then
        echo 'KUBELET_EXTRA_ARGS=--node-labels=paasctl.io/role=ingress' |
            put "$P/etc/default/kubelet" 644 || true
    fi
}

node_registration() {
    cat <<EOF
nodeRegistration:
  name: "$NODE_NAME"
  criSocket: unix:///run/containerd/containerd.sock
patches:
  directory: /etc/paasctl/patches
EOF
}

init_config() {
    api=$(kubeadm_api)
    cat <<EOF
apiVersion: $api
kind: InitConfiguration
bootstrapTokens:
- token: "$PAASCTL_TOKEN"
  description: "paasctl: the slot's join token (never expires; SPEC.md Clusters)"
  ttl: "0s"
  usages: [signing, authentication]
  groups: ["system:bootstrappers:kubeadm:default-node-token"]
EOF
    node_registration
    cat <<EOF
---
apiVersion: $api
kind: ClusterConfiguration
clusterName: "$PAASCTL_CLUSTER"
kubernetesVersion: "v$PAASCTL_K8S_VERSION"
controlPlaneEndpoint: "$PAASCTL_API_HOST:6443"
apiServer:
  certSANs: ["$PAASCTL_API_HOST"]
$(apiserver_oidc "$api")
networking:
  podSubnet: "$PAASCTL_POD_CIDR"
  serviceSubnet: "$PAASCTL_SERVICE_CIDR"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
serverTLSBootstrap: false
EOF
}

join_config() {   # join_config [control-plane]
    cat <<EOF
apiVersion: $(kubeadm_api)
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "$PAASCTL_API_HOST:6443"
    token: "$PAASCTL_TOKEN"
    caCertHashes: ["$PAASCTL_CA_HASH"]
EOF
    node_registration
    [ "${1:-}" != control-plane ] || printf 'controlPlane: {}\n'
}

# --- control plane ---------------------------------------------------------------
fetch_pki() {
    mkdir -p "$P/etc/kubernetes/pki/etcd"
    for f in ca.crt ca.key etcd/ca.crt etcd/ca.key front-proxy-ca.crt front-proxy-ca.key \
             sa.key sa.pub; do
        [ -s "$P/etc/kubernetes/pki/$f" ] || s3get "secret/pki/$f" "$P/etc/kubernetes/pki/$f"
        chmod 600 "$P/etc/kubernetes/pki/$f"
    done
}

api_answers() {
    curl -fsk --max-time 5 -o /dev/null "https://$PAASCTL_API_HOST:6443/livez"
}

setup_master() {
    fetch_pki
    fetch_oidc_ca
    kubelet_patch
    [ -f "$P/etc/kubernetes/admin.conf" ] && return 0
    if api_answers || ! first_master; then
        join_control_plane
        return 0
    fi
    init_config | put "$P/etc/paasctl/kubeadm.yaml" 600 || true
    kubeadm init --config "$P/etc/paasctl/kubeadm.yaml"
}

# --- HA control plane (master_count = 3; SPEC.md "Clusters") -------------------
# All three masters boot at once behind the API load balancer, so exactly one
# may make the cluster: the first-launched master (ami-launch-index 0) of the
# first zone. The others wait until the API answers through the balancer,
# then join as control-plane nodes with the slot's CAs that fetch_pki put in
# /etc/kubernetes/pki (stacked etcd; no --upload-certs, no certificate key).
# With master_count = 1 the single master is always the first.
first_master() {
    [ "${PAASCTL_MASTER_COUNT:-1}" = 1 ] && return 0
    [ "$ZONE" = "$PAASCTL_INIT_ZONE" ] && [ "$(imds_get meta-data/ami-launch-index)" = 0 ]
}

# wait_api: until the API answers at api.SLOT (the balancer), bounded.
wait_api() {
    tries=0
    until api_answers; do
        tries=$((tries + 1))
        if [ "$tries" -ge "${PAASCTL_API_WAIT_TRIES:-180}" ]; then
            log "the API at $PAASCTL_API_HOST:6443 did not answer; the first master's log says why"
            return 1
        fi
        sleep "${PAASCTL_API_WAIT_SLEEP:-10}"
    done
}

join_control_plane() {
    wait_api
    log "joining the control plane at $PAASCTL_API_HOST:6443"
    join_config control-plane | put "$P/etc/paasctl/kubeadm.yaml" 600 || true
    kubeadm join --config "$P/etc/paasctl/kubeadm.yaml"
}

# The token has no expiry (ttl 0s above); if someone deleted it, make it again
# so a node added months later still joins.
keep_token() {
    id=${PAASCTL_TOKEN%%.*}
    kubeadm token list 2>/dev/null | grep -q "^$id\." && return 0
    kubeadm token create "$PAASCTL_TOKEN" --ttl 0 >/dev/null
    log "bootstrap token $id recreated"
}

# apply NAME: kubectl apply of $P/etc/paasctl/addons/NAME.yaml unless that
# exact file was applied already (its sha256 is kept beside it).
apply() {
    f=$P/etc/paasctl/addons/$1.yaml
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    [ "$(cat "$f.applied" 2>/dev/null || true)" = "$sum" ] && return 0
    kubectl apply -f "$f"
    echo "$sum" >"$f.applied"
}

addons() {
    mkdir -p "$P/etc/paasctl/addons"
    f=$P/etc/paasctl/addons/flannel.yaml
    if [ ! -s "$f.orig" ]; then
        curl -fsSL -o "$f.orig" \
            "https://github.com/flannel-io/flannel/releases/download/$PAASCTL_FLANNEL_VERSION/kube-flannel.yml"
    fi
    # The manifest's net-conf.json: VXLAN over the slot's pod_cidr.
    sed "s#\"Network\": \"[0-9./]*\"#\"Network\": \"$PAASCTL_POD_CIDR\"#" "$f.orig" |
        put "$f" 644 || true
    apply flannel
    nginx_ingress | put "$P/etc/paasctl/addons/nginx-ingress.yaml" 644 || true
    apply nginx-ingress
}

# F5 NGINX Ingress Controller (the open-source nginx/kubernetes-ingress) as a
# host-network DaemonSet on the ingress nodes; its default server answers
# the ELBs' health_target path (-health-status-uri) on the first listener's
# instance port. Ingress resources only (no CRDs), no leader election.
nginx_ingress() {
    port=${PAASCTL_INGRESS_PORTS%% *}
    cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: nginx-ingress}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: nginx-ingress, namespace: nginx-ingress}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: nginx-config, namespace: nginx-ingress}
data: {}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: nginx.org/ingress-controller}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: nginx-ingress}
rules:
- apiGroups: [""]
  resources: [services, endpoints, pods, secrets, configmaps, namespaces]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch, list]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, ingressclasses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: nginx-ingress}
subjects: [{kind: ServiceAccount, name: nginx-ingress, namespace: nginx-ingress}]
roleRef: {kind: ClusterRole, name: nginx-ingress, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: nginx-ingress, namespace: nginx-ingress}
spec:
  selector: {matchLabels: {app: nginx-ingress}}
  template:
    metadata: {labels: {app: nginx-ingress}}
    spec:
      serviceAccountName: nginx-ingress
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      nodeSelector: {paasctl.io/role: ingress}
      containers:
      - name: nginx-ingress
        image: $PAASCTL_NGINX_INGRESS_IMAGE
        args:
        - -nginx-configmaps=\$(POD_NAMESPACE)/nginx-config
        - -ingress-class=nginx
        - -enable-custom-resources=false
        - -enable-leader-election=false
        - -health-status
        - -health-status-uri=$PAASCTL_HEALTH_PATH
        - -default-http-listener-port=$port
        - -ready-status-port=8081
        env:
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        readinessProbe:
          httpGet: {path: /nginx-ready, port: 8081}
          periodSeconds: 1
        securityContext:
          allowPrivilegeEscalation: true
          runAsUser: 101
          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
EOF
}

# --- workers -------------------------------------------------------------------------
join_cluster() {
    kubelet_patch
    [ -f "$P/etc/kubernetes/kubelet.conf" ] && return 0
    join_config | put "$P/etc/paasctl/kubeadm.yaml" 600 || true
    kubeadm join --config "$P/etc/paasctl/kubeadm.yaml"
}

# --- auth: Keycloak, and the API server's side of it --------------------------------
# The issuer Keycloak announces and the API server trusts: Keycloak listens
# on 8443 in its container, published on 443, and --hostname is this URL's
# origin, so the issuer carries no port.
OIDC_ISSUER=https://$PAASCTL_AUTH_HOST/realms/paas
OIDC_CA=/etc/kubernetes/pki/oidc-ca.crt

# The slot's auth CA (it signs Keycloak's certificate) where kubeadm mounts
# /etc/kubernetes/pki into the API server's pod.
fetch_oidc_ca() {
    [ -s "$P$OIDC_CA" ] || s3get secret/auth/ca.crt "$P$OIDC_CA"
    chmod 644 "$P$OIDC_CA"
}

# apiserver_oidc API: the apiServer.extraArgs block for ClusterConfiguration
# API (kubeadm.k8s.io/v1beta4: a list of name/value; v1beta3: a map).
# Keycloak's usernames and groups get the "oidc:" prefix so no token can
# claim a system: name.
apiserver_oidc() {
    echo "  extraArgs:"
    for kv in "oidc-issuer-url=$OIDC_ISSUER" oidc-client-id=kubernetes \
              oidc-username-claim=preferred_username oidc-username-prefix=oidc: \
              oidc-groups-claim=groups oidc-groups-prefix=oidc: "oidc-ca-file=$OIDC_CA"; do
        case "$1" in
            */v1beta3) printf '    %s: "%s"\n' "${kv%%=*}" "${kv#*=}" ;;
            *) printf '  - name: %s\n    value: "%s"\n' "${kv%%=*}" "${kv#*=}" ;;
        esac
    done
}

# The realm's group paas-admins is the cluster's admins (as oidc:paas-admins).
oidc_rbac() {
    cat <<EOF | put "$P/etc/paasctl/addons/oidc-rbac.yaml" 644 || true
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: paasctl-oidc-paas-admins}
subjects: [{kind: Group, name: "oidc:paas-admins", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
EOF
    apply oidc-rbac
}

# auth_file KEY FILE MODE: the bucket's KEY into FILE; 0 when FILE changed.
auth_file() {
    s3get "$1" "$2.new"
    rc=1
    put "$2" "$3" <"$2.new" && rc=0
    rm -f "$2.new"
    return $rc
}

# Keycloak (versions.env pins the image) in production mode (`start`):
# TLS with the slot's certificate for auth.SLOT.k8s.DNS_ZONE, strict
# hostname, its data in PostgreSQL on this node, the realm imported at the
# first start (a realm that exists is left alone), the admin from
# secret/auth/keycloak.env (docker --env-file: never on a command line).
# A changed certificate or env file restarts the containers.
KC_DIR=/etc/paasctl/keycloak
setup_auth() {
    installed docker.io || { apt-get update -q; apt-get install -y -q docker.io; }
    mkdir -p "$P$KC_DIR/import" "$P/var/lib/paasctl/keycloak-db"
    changed=0
    auth_file secret/auth/keycloak.env "$P$KC_DIR/keycloak.env" 600 && changed=1
    auth_file secret/auth/tls.crt "$P$KC_DIR/tls.crt" 644 && changed=1
    auth_file secret/auth/tls.key "$P$KC_DIR/tls.key" 600 && changed=1
    auth_file auth/realm-paas.json "$P$KC_DIR/import/paas.json" 644 || true
    # The image runs Keycloak as uid 1000: the key is its to read, no one else's.
    chown 1000 "$P$KC_DIR/tls.key"
    if [ "$changed" = 0 ] && docker inspect keycloak >/dev/null 2>&1; then
        return 0
    fi
    docker rm -f keycloak keycloak-db >/dev/null 2>&1 || true
    docker network inspect paasctl-auth >/dev/null 2>&1 ||
        docker network create paasctl-auth >/dev/null
    log "starting PostgreSQL and Keycloak for $PAASCTL_AUTH_HOST"
    docker run -d --restart always --name keycloak-db --network paasctl-auth \
        --env-file "$P$KC_DIR/keycloak.env" \
        -v "$P/var/lib/paasctl/keycloak-db:/var/lib/postgresql/data" \
        "$PAASCTL_KEYCLOAK_DB_IMAGE" >/dev/null
    docker run -d --restart always --name keycloak --network paasctl-auth -p 443:8443 \
        --env-file "$P$KC_DIR/keycloak.env" \
        -v "$P$KC_DIR/tls.crt:/opt/keycloak/conf/tls.crt:ro" \
        -v "$P$KC_DIR/tls.key:/opt/keycloak/conf/tls.key:ro" \
        -v "$P$KC_DIR/import:/opt/keycloak/data/import:ro" \
        "$PAASCTL_KEYCLOAK_IMAGE" start --import-realm \
        "--hostname=https://$PAASCTL_AUTH_HOST" --https-port=8443 --http-enabled=false \
        --https-certificate-file=/opt/keycloak/conf/tls.crt \
        --https-certificate-key-file=/opt/keycloak/conf/tls.key \
        --db=postgres --db-url-host=keycloak-db --db-url-database=keycloak \
        --db-username=keycloak --health-enabled=true >/dev/null
}

case "$PAASCTL_ROLE" in
    auth) setup_auth ;;
    master) identity; kernel; runtime; packages; setup_master; keep_token; addons; oidc_rbac ;;
    ingress|minion) identity; kernel; runtime; packages; join_cluster ;;
    *) log "unknown role '$PAASCTL_ROLE'"; exit 1 ;;
esac
log "done"
