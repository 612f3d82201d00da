import { shq } from "../engine/bootstrap";
import { asRoot } from "../kit/shell";
import { API_CLIENT_JS } from "./commands";
import { ROLLOUT_HEAD } from "./rollout";

/**
 * Scale-in and replacement: what runs before a Kubernetes node's machine goes.
 *
 * Every node has a `…-leave` step (a local command with only a `delete`) that depends on its
 * machine, so Pulumi runs it before the machine is destroyed, whether the machine left the config
 * (scale-in) or is being replaced. It cordons the node, drains it through the Eviction API
 * (PodDisruptionBudgets honoured, bounded by the drain timeout) and deletes its Node object. A
 * control plane's leave first refuses to break etcd's quorum (counted from the Ready control-plane
 * Nodes), and a control plane also has an `…-etcd-leave` step run on the machine itself over SSH,
 * after its leave: it removes the node's own etcd member once etcd itself confirms that enough
 * healthy members remain.
 *
 * A full `pulumi destroy` must not drain node after node of a cluster that is going anyway: the
 * cluster's teardown mark (a step that depends on every leave, so Pulumi deletes it first) writes
 * the ConfigMap kube-system/groundwork-teardown, and every leave that finds it does nothing. A
 * later `pulumi up` creates the mark step again, which removes a ConfigMap left by a destroy that
 * stopped half-way.
 */

/** The ConfigMap that tells the leave steps the whole cluster is being destroyed. */
export const TEARDOWN_CONFIGMAP = "groundwork-teardown";
const TEARDOWN_PATH = `/api/v1/namespaces/kube-system/configmaps/${TEARDOWN_CONFIGMAP}`;

/** Annotation a leave puts on the node it cordons (so an operator sees why it is unschedulable). */
export const LEAVING = "groundwork.io/leaving";

/**
 * Node.js, run as `node -e "$GROUNDWORK_SCRIPT"` by a node's leave step (GROUNDWORK_STEP=leave,
 * GROUNDWORK_ROLE control-plane or worker, the API as the admin like the drain). Does nothing when
 * the teardown mark is there or the node is not registered; refuses to take away a control plane
 * when the Ready others would be fewer than the quorum of the cluster left; otherwise cordons,
 * drains and deletes the Node. Fails naming the node and step when the API does not answer within
 * GROUNDWORK_TIMEOUT seconds: the machine then stays.
 */
export const NODE_LEAVE_SCRIPT = ROLLOUT_HEAD + String.raw`
apiAway = "; the node was not drained and its machine stays. If the cluster is gone, remove this step with pulumi state delete";
const quorum = (members) => Math.floor(members / 2) + 1;
async function main() {
  if (await getOrMissing("${TEARDOWN_PATH}", "the teardown mark")) return log("the cluster is being destroyed; nothing to drain");
  const n = await getOrMissing(nodePath, "the node");
  if (!n) return log("not registered; nothing to drain or delete");
  if (e.GROUNDWORK_ROLE === "control-plane") {
    const list = await getOrMissing("/api/v1/nodes?labelSelector=" + encodeURIComponent("node-role.kubernetes.io/control-plane"), "the control planes");
    const cps = (list ? list.items : []).map((x) => x.metadata.name);
    if (!cps.includes(node)) cps.push(node);
    const ready = (list ? list.items : []).filter((x) => x.metadata.name !== node && (x.status.conditions || []).some((c) => c.type === "Ready" && c.status === "True")).map((x) => x.metadata.name);
    if (cps.length <= 1) fail("it is the last control plane: removing it ends the cluster; destroy the stack instead");
    const need = quorum(cps.length - 1);
    if (ready.length < need) fail("removing it would leave " + ready.length + " Ready control plane(s) of " + (cps.length - 1) + " (" + (ready.join(", ") || "none") + "), below etcd's quorum of " + need + "; bring the others back first");
    log("etcd keeps its quorum: " + ready.length + " Ready control plane(s) of " + (cps.length - 1) + " left, quorum " + need);
  }
  if (!n.spec.unschedulable || !(n.metadata.annotations || {})["${LEAVING}"]) {
    const r = await patchNode({ spec: { unschedulable: true }, metadata: { annotations: { "${LEAVING}": "true" } } });
    if (r.status !== 200) fail("cordon answered " + (r.status || r.body));
    log("cordoned: the machine leaves the platform");
  }
  await drainPods();
  const d = await api("DELETE", nodePath);
  if (d.status !== 200 && d.status !== 404) fail("deleting the Node answered " + (d.status || d.body));
  log("Node deleted");
}
main();
`;

/**
 * Node.js for the cluster's teardown mark (GROUNDWORK_STEP=create or delete). Its delete, which a
 * full destroy runs before any leave, writes the teardown ConfigMap; its create removes one left
 * from an interrupted destroy. An API that does not answer within GROUNDWORK_TIMEOUT seconds is
 * reported and not waited for: the leaves then wait for it themselves.
 */
export const TEARDOWN_MARK_SCRIPT = String.raw`"use strict";
const e = process.env;
const started = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.log("[groundwork] teardown mark: " + m);
${API_CLIENT_JS}
async function main() {
  const limit = Number(e.GROUNDWORK_TIMEOUT) * 1000;
  for (;;) {
    const r = e.GROUNDWORK_STEP === "delete"
      ? await api("POST", "/api/v1/namespaces/kube-system/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "${TEARDOWN_CONFIGMAP}" }, data: { reason: "pulumi destroy of the cluster: its nodes are not drained one by one" } })
      : await api("DELETE", "${TEARDOWN_PATH}");
    if ((r.status >= 200 && r.status < 300) || r.status === 409 || r.status === 404) {
      return log(e.GROUNDWORK_STEP === "delete" ? "set: the nodes' leave steps will not drain" : r.status === 404 ? "not set" : "removed (left by an interrupted destroy)");
    }
    if (Date.now() - started > limit) return log("the API did not answer (" + (r.status || r.body) + "); not set");
    await sleep(3000);
  }
}
main();
`;

/**
 * Bash run as root on a leaving control plane (its `…-etcd-leave` step's delete): removes the
 * node's own etcd member, asking etcd itself (etcdctl in the node's etcd container, or
 * GROUNDWORK_ETCDCTL) which members there are and which are healthy. Nothing to do when no etcd
 * runs there, when the node is not a member, when it is the last member, or when the teardown mark
 * is set; refuses when the healthy other members would be fewer than the quorum of the members left.
 */
export function etcdLeaveBody(node: string): string {
    return [
        "set -euo pipefail",
        `node=${shq(node)}`,
        'log() { echo "[groundwork] etcd leave $node: $*"; }',
        'if [ -n "${GROUNDWORK_ETCDCTL:-}" ]; then',
        '  ctl() { $GROUNDWORK_ETCDCTL "$@"; }',
        "else",
        "  id=$(crictl ps -q --name '^etcd$' 2>/dev/null | head -n 1 || true)",
        '  if [ -z "$id" ]; then log "no etcd runs here; nothing to remove"; exit 0; fi',
        "  pki=/etc/kubernetes/pki/etcd",
        '  ctl() { crictl exec "$id" etcdctl --cacert "$pki/ca.crt" --cert "$pki/healthcheck-client.crt" --key "$pki/healthcheck-client.key" --command-timeout 30s "$@"; }',
        "fi",
        "if [ -s /etc/kubernetes/admin.conf ] && command -v kubectl >/dev/null &&",
        `   kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout 20s -n kube-system get configmap ${TEARDOWN_CONFIGMAP} >/dev/null 2>&1; then`,
        '  log "the cluster is being destroyed; nothing to remove"',
        "  exit 0",
        "fi",
        // member list -w simple: ID, status, name, peer URLs, client URLs, is learner.
        'members=$(ctl --endpoints "${GROUNDWORK_ETCD_ENDPOINT:-https://127.0.0.1:2379}" member list -w simple) || { log "etcd did not list its members; the machine stays"; exit 1; }',
        "mine=$(awk -F', ' -v n=\"$node\" '$3 == n { print $1 }' <<<\"$members\")",
        'if [ -z "$mine" ]; then log "not an etcd member; nothing to remove"; exit 0; fi',
        "total=$(grep -c . <<<\"$members\")",
        'if [ "$total" -le 1 ]; then log "the last etcd member: the cluster goes with it; nothing to remove"; exit 0; fi',
        "healthy=0; ask=''",
        "while IFS= read -r url; do",
        '  if ctl --endpoints "$url" endpoint health >/dev/null 2>&1; then healthy=$((healthy + 1)); ask=${ask:-$url}; fi',
        "done < <(awk -F', ' -v n=\"$node\" '$3 != n { split($5, u, \",\"); print u[1] }' <<<\"$members\")",
        "need=$(( (total - 1) / 2 + 1 ))",
        'if [ "$healthy" -lt "$need" ]; then',
        '  log "removing it would leave $healthy healthy member(s) of $((total - 1)), below the quorum of $need: refused; bring the others back first" >&2',
        "  exit 1",
        "fi",
        // Ask a healthy other member: this one may be the leader and step down while it answers.
        // etcd itself refuses while a member it needs rejoined only seconds ago ("unhealthy cluster"): retried.
        "for attempt in 1 2 3 4 5 6; do",
        '  if out=$(ctl --endpoints "$ask" member remove "$mine" 2>&1); then break; fi',
        '  if [ "$attempt" = 6 ]; then log "etcd refused removing member $mine: $(tail -n 1 <<<"$out"); the machine stays" >&2; exit 1; fi',
        '  log "etcd refused removing member $mine ($(tail -n 1 <<<"$out")); retrying"',
        "  sleep 5",
        "done",
        'log "member $mine removed; $((total - 1)) left, $healthy healthy (quorum $need)"',
    ].join("\n");
}

/** The etcd leave command: etcdLeaveBody as root. */
export function etcdLeaveScript(node: string): string {
    return asRoot(etcdLeaveBody(node));
}
