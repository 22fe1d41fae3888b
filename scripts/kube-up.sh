#!/usr/bin/env bash
# Start a test control plane on 127.0.0.1: etcd, kube-apiserver (a test CA, token auth as
# system:masters, RBAC, admission webhooks), kube-controller-manager (garbage collector,
# namespace, DaemonSet, Deployment, ReplicaSet controllers) and kube-scheduler.
# Usage: scripts/kube-up.sh DATA_DIR   → DATA_DIR/kubeconfig; PIDs in DATA_DIR/*.pid.
# Env: SPO_KUBE_BIN (default /var/cache/spo-kube/bin); API_PORT (16443), ETCD_PORT (12379),
# ETCD_PEER_PORT (12380) to run several at once; WITH_KCM=0 / WITH_SCHEDULER=0 leave those out.
# Stop with scripts/kube-down.sh DATA_DIR.
set -euo pipefail
D=${1:?usage: kube-up.sh DATA_DIR}
B=${SPO_KUBE_BIN:-/var/cache/spo-kube/bin}
EP=${ETCD_PORT:-12379}; PP=${ETCD_PEER_PORT:-12380}; AP=${API_PORT:-16443}
for b in etcd kube-apiserver; do
  [ -x "$B/$b" ] || { echo "missing $B/$b: run scripts/kube-build.sh first" >&2; exit 2; }
done
mkdir -p "$D/certs" "$D/etcd"
D=$(cd "$D" && pwd)
# On any failure, stop what was started so far (by PID) instead of leaving it running.
trap 'bash "$(dirname "$0")/kube-down.sh" "$D"' ERR
# A CA and a serving certificate with IP SAN 127.0.0.1: clients verify TLS, nothing is skipped.
C="$D/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=spo-test-ca -keyout "$C/ca.key" -out "$C/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$C/apiserver.key" -out "$C/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$C/ext.cnf"
openssl x509 -req -in "$C/apiserver.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial \
  -days 2 -extfile "$C/ext.cnf" -out "$C/apiserver.crt" 2>/dev/null
openssl genrsa -out "$C/sa.key" 2048 2>/dev/null
openssl rsa -in "$C/sa.key" -pubout -out "$C/sa.pub" 2>/dev/null
echo 'admin-token,admin,admin,"system:masters"' > "$D/tokens.csv"
"$B/etcd" --data-dir "$D/etcd" --listen-client-urls "http://127.0.0.1:$EP" --advertise-client-urls "http://127.0.0.1:$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "default=http://127.0.0.1:$PP" --unsafe-no-fsync > "$D/etcd.log" 2>&1 &
echo $! > "$D/etcd.pid"
"$B/kube-apiserver" --etcd-servers="http://127.0.0.1:$EP" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
  --secure-port="$AP" --tls-cert-file="$C/apiserver.crt" --tls-private-key-file="$C/apiserver.key" \
  --client-ca-file="$C/ca.crt" --token-auth-file="$D/tokens.csv" --authorization-mode=RBAC \
  --service-account-key-file="$C/sa.pub" --service-account-signing-key-file="$C/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local --api-audiences=https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true --endpoint-reconciler-type=none \
  --enable-admission-plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
  --disable-admission-plugins=ServiceAccount > "$D/apiserver.log" 2>&1 &
echo $! > "$D/apiserver.pid"
cat > "$D/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$AP", certificate-authority: "$C/ca.crt"}
users:
- name: admin
  user: {token: admin-token}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KC
for i in $(seq 1 240); do
  if KUBECONFIG="$D/kubeconfig" kubectl get --raw /readyz >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$D/apiserver.pid")" 2>/dev/null || [ "$i" = 240 ]; then
    echo "apiserver not ready (port $AP taken? log: $D/apiserver.log)" >&2; tail -5 "$D/apiserver.log" >&2
    bash "$(dirname "$0")/kube-down.sh" "$D"; exit 1
  fi
  sleep 0.5
done
if [ -x "$B/kube-controller-manager" ] && [ "${WITH_KCM:-1}" = 1 ]; then
  "$B/kube-controller-manager" --kubeconfig="$D/kubeconfig" --bind-address=127.0.0.1 --secure-port=0 \
    --port=0 --leader-elect=false --use-service-account-credentials=false \
    --controllers="${KCM_CONTROLLERS:-garbagecollector,namespace,daemonset,deployment,replicaset}" \
    > "$D/kcm.log" 2>&1 &
  echo $! > "$D/kcm.pid"
fi
if [ -x "$B/kube-scheduler" ] && [ "${WITH_SCHEDULER:-1}" = 1 ]; then
  "$B/kube-scheduler" --kubeconfig="$D/kubeconfig" --bind-address=127.0.0.1 --secure-port=0 --port=0 \
    --leader-elect=false > "$D/scheduler.log" 2>&1 &
  echo $! > "$D/scheduler.pid"
fi
echo "ready: KUBECONFIG=$D/kubeconfig"
