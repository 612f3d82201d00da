import { BootstrapFile, BootstrapPart, shq } from "../engine/bootstrap";
import { MachineSpec } from "../machines/machine";
import { CERTIFICATE_KEY_MARKER, JOIN_MATERIAL_PATH, TOKEN_MARKER } from "./join";
import { ClusterSettings, ClusterTrust, controlPlanePatches, endpointAddress, engineRuntime, PATCHES_DIR, renderClusterConfiguration, renderKubeadmInit, renderKubeadmJoin, renderKubeadmUpgrade } from "./kubeadm";
import { metadataGuardPart } from "./metadata-guard";
import { KUBECONFIG_PLACEHOLDER, renderKubeVipManifest, VIP_INTERFACE_PLACEHOLDER } from "./kube-vip";
import { KUBERNETES_APT, kubeletUpgradeSteps, kubernetesPackagesParts } from "./packages";
import { certificatesPart } from "./certificates";

export const GROUNDWORK_DIR = "/etc/groundwork";
export const PATHS = {
    /** Made on the machine from the template and the join material; removed after init. */
    initConfig: `${GROUNDWORK_DIR}/kubeadm/init.yaml`,
    /** Made on the machine from the template and the join material; removed after join. */
    joinConfig: `${GROUNDWORK_DIR}/kubeadm/join.yaml`,
    initTemplate: `${GROUNDWORK_DIR}/kubeadm/init.template.yaml`,
    joinTemplate: `${GROUNDWORK_DIR}/kubeadm/join.template.yaml`,
    /** UpgradeConfiguration (cluster.tuning's timeouts, a control plane's patches), when there is one: `kubeadm upgrade apply|node --config`. */
    upgradeConfig: `${GROUNDWORK_DIR}/kubeadm/upgrade.yaml`,
    /** ClusterConfiguration alone, on control planes: for re-uploading certificates (join.ts). */
    clusterConfig: `${GROUNDWORK_DIR}/kubeadm/cluster.yaml`,
    endpointCa: `${GROUNDWORK_DIR}/ca.crt`,
    kubeVipTemplate: `${GROUNDWORK_DIR}/kube-vip.yaml`,
    pkiCaCert: "/etc/kubernetes/pki/ca.crt",
    pkiCaKey: "/etc/kubernetes/pki/ca.key",
    ...KUBERNETES_APT,
} as const;

/** Seconds a joining machine waits for the API behind the endpoint before its bootstrap fails. */
export const JOIN_WAIT_SECONDS = 3600;

/** Seconds a control plane waits for its image repository to serve kubeadm's images (a registry being seeded). */
export const IMAGES_WAIT_SECONDS = 3600;
/** Answers in a row (2 s apart) through the VIP that count as kube-vip holding it again. */
export const VIP_STEADY_ANSWERS = 3;
/** How long the VIP may stay away after kube-vip's kubeconfig changes, beyond one leader lease. */
export const VIP_WAIT_SECONDS = 300;

/** The control plane that runs `kubeadm init`: the lowest ordinal of the control-plane group. */
export function firstControlPlane(specs: MachineSpec[]): MachineSpec | undefined {
    return specs.filter((s) => s.role === "control-plane").sort((a, b) => a.ordinal - b.ordinal || a.name.localeCompare(b.name))[0];
}

/**
 * The kubeadm part of one machine. Everything it writes from user-data is free of secrets: the CA
 * certificate, kube-vip's manifest and kubeadm config templates whose token and certificate key
 * are markers. At init or join it waits (bounded) for the join material that the Pulumi program
 * delivers over SSH (join.ts), fills the templates into root-only configs, and removes the
 * material and the filled configs afterwards. A machine that already belongs to the cluster is
 * left alone; the first control plane initialises only when no API answers at the endpoint, so
 * replacing it later makes it join instead. kubeadm is told not to print the token or key.
 */
export function kubeadmPart(s: ClusterSettings, node: MachineSpec, firstControlPlaneName: string, trust: ClusterTrust): BootstrapPart {
    const controlPlane = node.role === "control-plane";
    const init = controlPlane && node.name === firstControlPlaneName;
    const markers = { bootstrapToken: TOKEN_MARKER, certificateKey: CERTIFICATE_KEY_MARKER };
    const files: BootstrapFile[] = [
        { path: PATHS.endpointCa, content: trust.caCertPem, mode: "0644" },
        { path: PATHS.joinTemplate, content: renderKubeadmJoin(s, node, { ...markers, caCertHash: trust.caCertHash }), mode: "0600" },
    ];
    if (init) files.push({ path: PATHS.initTemplate, content: renderKubeadmInit(s, node, markers), mode: "0600" });
    const upgradeConfig = renderKubeadmUpgrade(s, node);
    if (upgradeConfig) files.push({ path: PATHS.upgradeConfig, content: upgradeConfig, mode: "0600" });
    if (controlPlane) {
        files.push({ path: PATHS.clusterConfig, content: renderClusterConfiguration(s), mode: "0600" });
        for (const p of controlPlanePatches(s)) files.push({ path: `${PATCHES_DIR}/${p.file}`, content: p.content, mode: "0600" });
        if (s.kubeVip) files.push({ path: PATHS.kubeVipTemplate, content: renderKubeVipManifest({ address: s.endpoint.host, port: s.endpoint.port, image: s.kubeVip.image, leaseSeconds: s.tuning?.kubeVipLeaseSeconds }), mode: "0600" });
    }
    const vip = controlPlane && s.kubeVip !== undefined;
    const lines = [
        `node=${shq(node.name)}`,
        `endpoint=${shq(`https://${endpointAddress(s)}`)}`,
        `join_env='${JOIN_MATERIAL_PATH}'`,
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
        // Join material never comes with user-data: the Pulumi program puts it here over SSH.
        "wait_for_join_material() {",
        "  local start=$SECONDS",
        '  until [ -s "$join_env" ]; do',
        `    if [ $((SECONDS - start)) -ge ${JOIN_WAIT_SECONDS} ]; then`,
        `      log "kubeadm: no join material at $join_env after $((SECONDS - start))s; the Pulumi program delivers it over SSH to ${node.address} (as the login user, port 22 or the bare-metal SSH port) once the cluster can register this machine: check that pulumi up is running and reaches this machine"`,
        "      exit 1",
        "    fi",
        '    if [ $(((SECONDS - start) % 60)) -lt 5 ]; then log "kubeadm: waiting for join material at $join_env ($((SECONDS - start))s)"; fi',
        "    sleep 5",
        "  done",
        "}",
        "join_value() {",
        `  sed -n "s/^$1=//p" "$join_env" | head -n 1`,
        "}",
        // The template's markers become the token and key in a root-only file that kubeadm reads.
        "fill_kubeadm_config() {",
        "  local token key",
        "  token=$(join_value token)",
        "  key=$(join_value certificate-key)",
        "  if ! [[ $token =~ ^[a-z0-9]{6}\\.[a-z0-9]{16}$ ]]; then",
        '    log "kubeadm: $join_env holds no valid token"',
        "    exit 1",
        "  fi",
        `  (umask 077 && sed -e "s|${TOKEN_MARKER}|$token|" -e "s|${CERTIFICATE_KEY_MARKER}|$key|" "$1" > "$2")`,
        "}",
        // A control plane starts kubeadm only once every image it runs can be pulled (through CRI,
        // with the node's registry credentials): in an air gap the registry may still be being seeded.
        ...(controlPlane
            ? [
                  "wait_for_images() {",
                  "  local start=$SECONDS out",
                  `  until out=$(kubeadm config images pull --config '${PATHS.clusterConfig}' 2>&1); do`,
                  `    if [ $((SECONDS - start)) -ge ${IMAGES_WAIT_SECONDS} ]; then`,
                  `      log "kubeadm: ${s.imageRepository} does not serve every image kubeadm needs after $((SECONDS - start))s: $(tail -n 1 <<<"$out"); seed it (groundwork seed --from <OCI archive>) or check its address and credentials"`,
                  "      exit 1",
                  "    fi",
                  `    log "kubeadm: waiting for ${s.imageRepository} to serve kubeadm's images ($((SECONDS - start))s): $(tail -n 1 <<<"$out")"`,
                  "    sleep 15",
                  "  done",
                  '  log "kubeadm: images pullable from ' + s.imageRepository + ' ($((SECONDS - start))s)"',
                  "}",
                  ]
            : []),
        "forget_join_material() {",
        `  rm -f "$join_env" '${PATHS.initConfig}' '${PATHS.joinConfig}'`,
        "}",
    ];
    if (vip) {
        lines.push(
            "kube_vip_changed=0",
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
            "    kube_vip_changed=1",
            "  fi",
            "}",
            // A changed manifest restarts kube-vip: the VIP is gone until the new pod takes the
            // lease. Whatever comes next (the program's Kubernetes provider, joining machines)
            // talks to the VIP, so the bootstrap ends only once it answers steadily again.
            // The kubelet swaps the static pod in its own time (minutes on a loaded machine): until a
            // kube-vip container created after the manifest runs, the old one may still hold the VIP
            // and answer, and the swap would take it away after this bootstrap ended.
            "kube_vip_newer_than() { # SECONDS since the epoch: a running kube-vip container created after it",
            "  local created",
            "  created=$(crictl ps -o json --state running --name '^kube-vip$' 2>/dev/null | sed -n 's/.*\"createdAt\": *\"\\([0-9]*\\)\".*/\\1/p' | sort -n | tail -n 1)",
            '  [ -n "$created" ] && [ "$created" -gt "$(($1 * 1000000000))" ]',
            "}",
            "wait_for_vip() {",
            `  local start=$SECONDS ok=0 limit=${VIP_WAIT_SECONDS + (s.tuning?.kubeVipLeaseSeconds ?? 5)} written`,
            "  written=$(stat -c %Y /etc/kubernetes/manifests/kube-vip.yaml)",
            '  until kube_vip_newer_than "$written"; do',
            "    if [ $((SECONDS - start)) -ge $limit ]; then",
            '      log "kube-vip: no kube-vip container started from the new manifest within $((SECONDS - start))s; see the kubelet\'s log (journalctl -u kubelet)"',
            "      exit 1",
            "    fi",
            "    sleep 2",
            "  done",
            '  log "kube-vip: the new pod runs ($((SECONDS - start))s)"',
            `  while [ $ok -lt ${VIP_STEADY_ANSWERS} ]; do`,
            "    if api_up; then ok=$((ok + 1)); else ok=0; fi",
            "    if [ $((SECONDS - start)) -ge $limit ]; then",
            `      log "kube-vip: the API at $endpoint did not answer ${VIP_STEADY_ANSWERS} times in a row within $((SECONDS - start))s after kube-vip's manifest changed; see kube-vip's log (crictl logs \\$(crictl ps -q --name kube-vip))"`,
            "      exit 1",
            "    fi",
            "    sleep 2",
            "  done",
            '  log "kube-vip: the API answers through $endpoint again ($((SECONDS - start))s)"',
            "}",
        );
    }
    const afterJoin = vip ? ["  install_kube_vip /etc/kubernetes/admin.conf", '  if [ "$kube_vip_changed" = 1 ]; then wait_for_vip; fi'] : [];
    lines.push("if [ -f /etc/kubernetes/kubelet.conf ]; then", '  log "kubeadm: $node already belongs to the cluster"', ...upgradeSteps(node, init, upgradeConfig !== undefined), ...afterJoin, "  forget_join_material");
    if (init) {
        lines.push(
            "elif ! api_up; then",
            "  wait_for_join_material",
            "  wait_for_images",
            '  log "kubeadm: initialising the cluster on $node"',
            "  start=$SECONDS",
            // The pre-made CA: its certificate came with user-data, its key with the join material.
            "  install -d -m 0755 /etc/kubernetes/pki",
            `  install -m 0644 '${PATHS.endpointCa}' '${PATHS.pkiCaCert}'`,
            `  (umask 077 && join_value ca-key | base64 -d > '${PATHS.pkiCaKey}')`,
            `  fill_kubeadm_config '${PATHS.initTemplate}' '${PATHS.initConfig}'`,
            // kubeadm ≥ 1.29 grants admin.conf its rights only at the end of init; kube-vip needs super-admin.conf until then.
            ...(vip ? ["  install_kube_vip /etc/kubernetes/super-admin.conf"] : []),
            `  kubeadm init --config '${PATHS.initConfig}' --upload-certs --skip-token-print --skip-certificate-key-print`,
            ...afterJoin,
            "  forget_join_material",
            '  log "kubeadm: control plane initialised in $((SECONDS - start))s"',
        );
    }
    lines.push(
        "else",
        "  wait_for_join_material",
        "  wait_for_api",
        ...(controlPlane ? ["  wait_for_images"] : []),
        `  log "kubeadm: joining $node${controlPlane ? " as a control plane" : ""}"`,
        "  start=$SECONDS",
        `  fill_kubeadm_config '${PATHS.joinTemplate}' '${PATHS.joinConfig}'`,
        // The manifests directory must be empty for `kubeadm join`, so kube-vip comes after it.
        `  kubeadm join --config '${PATHS.joinConfig}'`,
        ...afterJoin,
        "  forget_join_material",
        '  log "kubeadm: joined in $((SECONDS - start))s"',
        "fi",
    );
    return { name: "kubeadm", files, script: lines.join("\n"), undo: kubeadmUndo(s) };
}

/**
 * A member whose Kubernetes version changes (the packages part set gw_kube_upgrade=1 and moved
 * kubeadm): the first control plane stores the new ClusterConfiguration (the new minor's etcd and
 * CoreDNS pins) in kubeadm-config, as kubeadm's reconfiguration guide says, waits for the new
 * images and runs `kubeadm upgrade apply`; the other control planes wait for the images and run
 * `kubeadm upgrade node`, like the workers; then kubelet and kubectl move (kubeletUpgradeSteps).
 * The rollout runs this on one node at a time, control planes first, each drained before.
 */
function upgradeSteps(node: MachineSpec, init: boolean, withConfig: boolean): string[] {
    const controlPlane = node.role === "control-plane";
    const config = withConfig ? ` --config '${PATHS.upgradeConfig}'` : "";
    const kubectl = "kubectl --kubeconfig /etc/kubernetes/admin.conf";
    const lines = ['  if [[ ${gw_kube_upgrade:-0} == 1 ]]; then', "    start=$SECONDS"];
    if (init) {
        lines.push(
            '    log "kubeadm: storing the ClusterConfiguration of $gw_kube_want in kube-system/kubeadm-config"',
            `    ${kubectl} -n kube-system create configmap kubeadm-config --from-file=ClusterConfiguration='${PATHS.clusterConfig}' --dry-run=client -o yaml | ${kubectl} replace -f - >/dev/null`,
            "    wait_for_images",
            '    log "kubeadm: upgrade apply v$gw_kube_want"',
            // A failed apply is safe to run again (kubeadm's upgrade guide): up to 3 attempts before the
            // node stops the rollout. Its CreateJob preflight gives a test Job 15 s to be scheduled, pull
            // the new pause image and finish, which a loaded node misses (in the emulated guests, 3 times
            // out of 3): after it failed once, the next attempts skip that check alone, as kubespray skips
            // all of them. The rollout's own checks stand in: the API answered through the VIP before the
            // drain, and the node must be Ready at the new version before its uncordon.
            "    gw_skip=''",
            "    gw_apply_log=$(mktemp)",
            "    for attempt in 1 2 3; do",
            `      if kubeadm upgrade apply${config} --yes ` + '${gw_skip:+"--ignore-preflight-errors=$gw_skip"} "v$gw_kube_want" 2>&1 | tee "$gw_apply_log"; then break; fi',
            '      if [[ $attempt == 3 ]]; then rm -f "$gw_apply_log"; log "kubeadm: upgrade apply v$gw_kube_want failed 3 times; kubelet stays at $gw_kube_have; fix what kubeadm said above, then run pulumi up again"; exit 1; fi',
            '      if grep -q "ERROR CreateJob" "$gw_apply_log"; then gw_skip=CreateJob; log "kubeadm: its test Job did not finish within 15s; the next attempt skips that check (CreateJob)"; fi',
            '      log "kubeadm: upgrade apply failed (attempt $attempt of 3); trying again in 20s"',
            "      sleep 20",
            "    done",
            '    rm -f "$gw_apply_log"',
        );
    } else {
        if (controlPlane) lines.push("    wait_for_images");
        lines.push('    log "kubeadm: upgrade node"', `    kubeadm upgrade node${config}`);
    }
    lines.push(...kubeletUpgradeSteps().map((l) => `  ${l}`), '    log "kubeadm: $node upgraded to $gw_kube_want in $((SECONDS - start))s"', "  fi");
    return lines;
}

/**
 * A reset: `kubeadm reset` while the node still has kubeadm's state (its static pods stop, its
 * certificates, kubeconfigs and etcd data go; it keeps its folders, empty), then the CNI
 * configuration kubeadm leaves behind: the contents of /etc/cni/net.d, whose folder containerd
 * makes again whenever it starts (removing the folder would make a second reset find it back).
 */
function kubeadmUndo(s: ClusterSettings): string {
    return [
        "if command -v kubeadm >/dev/null 2>&1 && [[ -e /etc/kubernetes/kubelet.conf || -e /etc/kubernetes/admin.conf || -n $(ls -A /etc/kubernetes/manifests 2>/dev/null) ]]; then",
        '  log "reset: kubeadm reset"',
        `  kubeadm reset --force --cri-socket=${engineRuntime(s.engine).criSocket}`,
        "  gw_note_change kubeadm-reset",
        "fi",
        'for f in /etc/cni/net.d/*; do if [[ -e $f || -L $f ]]; then gw_remove_tree "$f"; fi; done',
        ...["/var/lib/cni", "/run/flannel"].map((d) => `gw_remove_tree ${d}`),
    ].join("\n");
}

/** Both cluster parts of one machine, in the order they run (after the engine's). */
export function clusterParts(s: ClusterSettings, node: MachineSpec, firstControlPlaneName: string, trust: ClusterTrust): BootstrapPart[] {
    const guard = node.backend === "openstack" ? [metadataGuardPart(s.podCidr)] : [];
    const certificates = node.role === "control-plane" ? [certificatesPart(s.certificates ?? { renewBeforeDays: 30, autoRenew: true })] : [];
    return [...kubernetesPackagesParts(s), ...guard, kubeadmPart(s, node, firstControlPlaneName, trust), ...certificates];
}
