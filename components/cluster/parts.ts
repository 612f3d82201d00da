import { BootstrapFile, BootstrapPart, shq } from "../engine/bootstrap";
import { MachineSpec } from "../machines/machine";
import { ClusterSettings, NodeSecrets, endpointAddress, renderKubeadmInit, renderKubeadmJoin } from "./kubeadm";
import { KUBECONFIG_PLACEHOLDER, renderKubeVipManifest, VIP_INTERFACE_PLACEHOLDER } from "./kube-vip";
import { KUBERNETES_APT, kubernetesPackagesParts } from "./packages";

export const GROUNDWORK_DIR = "/etc/groundwork";
export const PATHS = {
    initConfig: `${GROUNDWORK_DIR}/kubeadm/init.yaml`,
    joinConfig: `${GROUNDWORK_DIR}/kubeadm/join.yaml`,
    endpointCa: `${GROUNDWORK_DIR}/ca.crt`,
    kubeVipTemplate: `${GROUNDWORK_DIR}/kube-vip.yaml`,
    pkiCaCert: "/etc/kubernetes/pki/ca.crt",
    pkiCaKey: "/etc/kubernetes/pki/ca.key",
    ...KUBERNETES_APT,
} as const;

/** Seconds a joining machine waits for the API behind the endpoint before its bootstrap fails. */
export const JOIN_WAIT_SECONDS = 3600;

/** The control plane that runs `kubeadm init`: the lowest ordinal of the control-plane group. */
export function firstControlPlane(specs: MachineSpec[]): MachineSpec | undefined {
    return specs.filter((s) => s.role === "control-plane").sort((a, b) => a.ordinal - b.ordinal || a.name.localeCompare(b.name))[0];
}

/**
 * The kubeadm part of one machine: its config files (token and, on control planes, the CA key
 * are in them, so the whole bootstrap is a secret) and the init-or-join fragment. A machine that
 * already belongs to the cluster is left alone; the first control plane initialises only when no
 * API answers at the endpoint, so replacing it later makes it join instead.
 */
export function kubeadmPart(s: ClusterSettings, node: MachineSpec, firstControlPlaneName: string, secrets: NodeSecrets): BootstrapPart {
    const controlPlane = node.role === "control-plane";
    const init = controlPlane && node.name === firstControlPlaneName;
    const files: BootstrapFile[] = [
        { path: PATHS.endpointCa, content: secrets.caCertPem, mode: "0644" },
        { path: PATHS.joinConfig, content: renderKubeadmJoin(s, node, secrets), mode: "0600" },
    ];
    if (init) files.push({ path: PATHS.initConfig, content: renderKubeadmInit(s, node, secrets), mode: "0600" });
    if (controlPlane) {
        files.push({ path: PATHS.pkiCaCert, content: secrets.caCertPem, mode: "0644" }, { path: PATHS.pkiCaKey, content: secrets.caKeyPem, mode: "0600" });
        if (s.kubeVip) files.push({ path: PATHS.kubeVipTemplate, content: renderKubeVipManifest({ address: s.endpoint.host, port: s.endpoint.port, image: s.kubeVip.image }), mode: "0600" });
    }
    const vip = controlPlane && s.kubeVip !== undefined;
    const lines = [
        `node=${shq(node.name)}`,
        `endpoint=${shq(`https://${endpointAddress(s)}`)}`,
        "api_up() {",
        `  curl -fsS --max-time 5 --cacert '${PATHS.endpointCa}' "$endpoint/readyz" >/dev/null 2>&1`,
        "}",
        "wait_for_api() {",
        "  local start=$SECONDS",
        "  until api_up; do",
        `    if [ $((SECONDS - start)) -ge ${JOIN_WAIT_SECONDS} ]; then`,
        '      log "kubeadm: the API at $endpoint did not answer within $((SECONDS - start))s; the first control plane may have failed"',
        "      exit 1",
        "    fi",
        '    log "kubeadm: waiting for the API at $endpoint ($((SECONDS - start))s)"',
        "    sleep 10",
        "  done",
        "}",
    ];
    if (vip) {
        lines.push(
            "install_kube_vip() {",
            "  local iface",
            `  iface="$(ip -o -4 addr show | awk -v a=${shq(node.address)} '{ split($4, p, "/"); if (p[1] == a) { print $2; exit } }')"`,
            '  if [ -z "$iface" ]; then',
            `    log "kube-vip: no interface carries ${node.address}; cannot hold the VIP"`,
            "    exit 1",
            "  fi",
            "  install -d -m 0755 /etc/kubernetes/manifests",
            `  sed -e "s|${VIP_INTERFACE_PLACEHOLDER}|$iface|" -e "s|${KUBECONFIG_PLACEHOLDER}|$1|" '${PATHS.kubeVipTemplate}' > /etc/kubernetes/kube-vip.yaml.new`,
            "  if cmp -s /etc/kubernetes/kube-vip.yaml.new /etc/kubernetes/manifests/kube-vip.yaml; then",
            "    rm -f /etc/kubernetes/kube-vip.yaml.new",
            "  else",
            "    install -m 0600 /etc/kubernetes/kube-vip.yaml.new /etc/kubernetes/manifests/kube-vip.yaml && rm -f /etc/kubernetes/kube-vip.yaml.new",
            '    log "kube-vip: manifest installed (interface $iface, kubeconfig $1)"',
            "  fi",
            "}",
        );
    }
    const afterJoin = vip ? ["  install_kube_vip /etc/kubernetes/admin.conf"] : [];
    lines.push("if [ -f /etc/kubernetes/kubelet.conf ]; then", '  log "kubeadm: $node already belongs to the cluster"', ...afterJoin);
    if (init) {
        lines.push(
            "elif ! api_up; then",
            '  log "kubeadm: initialising the cluster on $node"',
            "  start=$SECONDS",
            // kubeadm ≥ 1.29 grants admin.conf its rights only at the end of init; kube-vip needs super-admin.conf until then.
            ...(vip ? ["  install_kube_vip /etc/kubernetes/super-admin.conf"] : []),
            `  kubeadm init --config '${PATHS.initConfig}' --upload-certs`,
            ...afterJoin,
            '  log "kubeadm: control plane initialised in $((SECONDS - start))s"',
        );
    }
    lines.push(
        "else",
        "  wait_for_api",
        `  log "kubeadm: joining $node${controlPlane ? " as a control plane" : ""}"`,
        "  start=$SECONDS",
        // The manifests directory must be empty for `kubeadm join`, so kube-vip comes after it.
        `  kubeadm join --config '${PATHS.joinConfig}'`,
        ...afterJoin,
        '  log "kubeadm: joined in $((SECONDS - start))s"',
        "fi",
    );
    return { name: "kubeadm", files, script: lines.join("\n") };
}

/** Both cluster parts of one machine, in the order they run (after the engine's). */
export function clusterParts(s: ClusterSettings, node: MachineSpec, firstControlPlaneName: string, secrets: NodeSecrets): BootstrapPart[] {
    return [...kubernetesPackagesParts(s), kubeadmPart(s, node, firstControlPlaneName, secrets)];
}
