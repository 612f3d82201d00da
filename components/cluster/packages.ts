import { BootstrapFile, BootstrapPart, shq } from "../engine/bootstrap";
import { APT_LISTS_DIR, APT_NO_PARTS_DIR, APT_SOURCE_FILE, aptSourceLine, wantedPins } from "../engine/render-apt";
import { bypassesProxy } from "../engine/render-host";
import { ClusterSettings, DownloadProxy } from "./kubeadm";
import { bareVersion, kubernetesMinor, minorOf, PACKAGE_REVISION } from "./versions";

/** Where the Kubernetes packages' apt configuration lives on a node. */
export const KUBERNETES_APT = {
    aptKeyring: "/etc/apt/keyrings/groundwork-kubernetes.gpg",
    /** The Kubernetes repository among the machine's apt sources (OS packages from the distribution). */
    aptSource: "/etc/apt/sources.list.d/groundwork-kubernetes.list",
    /** The step's own list when the OS packages come from a mirror: that mirror and the Kubernetes repository, nothing else. */
    aptOwnList: "/etc/groundwork/apt/kubernetes.list",
    /** Indexes of aptOwnList's sources, apart from the machine's own. */
    aptLists: "/var/lib/groundwork/apt/kubernetes-lists",
} as const;

/** The apt repository of the pinned minor: pkgs.k8s.io, or the mirror's copy of it. */
export function aptRepository(s: ClusterSettings): { url: string; line: string; keyUrl?: string } {
    const url = s.packageSource.kind === "mirror" ? s.packageSource.url!.replace(/\/+$/, "") : `https://pkgs.k8s.io/core:/stable:/v${minorOf(s.kubernetesVersion)}/deb`;
    if (s.packageSource.kind === "mirror" && s.packageSource.trusted) return { url, line: `deb [trusted=yes] ${url}/ /` };
    return { url, line: `deb [signed-by=${KUBERNETES_APT.aptKeyring}] ${url}/ /`, keyUrl: `${url}/Release.key` };
}

/** The pinned packages (name=version) every node installs; every one of them is held. */
export function kubernetesPackages(s: ClusterSettings): string[] {
    const v = `${bareVersion(s.kubernetesVersion)}${PACKAGE_REVISION}`;
    const minor = kubernetesMinor(s.kubernetesVersion);
    const extra = minor ? [`cri-tools=${minor.criTools}`, `kubernetes-cni=${minor.kubernetesCni}`] : [];
    return [`kubeadm=${v}`, `kubelet=${v}`, `kubectl=${v}`, ...extra];
}

/**
 * curl's proxy flags for one URL (values quoted for bash), the way the engine's services get them: none without a proxy,
 * `--noproxy '*'` when no_proxy covers the host, else the proxy for the URL's scheme (the other
 * one when only that is set, as apt does).
 */
export function curlProxyArgs(url: string, proxy: DownloadProxy | undefined): string[] {
    if (proxy === undefined || (proxy.http === undefined && proxy.https === undefined)) return [];
    const u = new URL(url);
    if (bypassesProxy(u.host, proxy.noProxy)) return ["--noproxy", shq("*")];
    const via = u.protocol === "https:" ? proxy.https ?? proxy.http : proxy.http ?? proxy.https;
    return ["--proxy", shq(via!)];
}

/** apt's per-host DIRECT options for the hosts that no_proxy covers (apt.conf has the proxy itself). */
function aptDirectOptions(urls: string[], proxy: DownloadProxy | undefined): string[] {
    if (proxy === undefined || (proxy.http === undefined && proxy.https === undefined)) return [];
    const hosts = [...new Set(urls.map((u) => new URL(u).hostname))].filter((h) => bypassesProxy(h, proxy.noProxy)).sort();
    return hosts.flatMap((h) => ["-o", `Acquire::http::Proxy::${h}=DIRECT`, "-o", `Acquire::https::Proxy::${h}=DIRECT`]);
}

/** apt options that read only the machine's OS package source: the engine's mirror list, or the distribution's sources. */
function osAptOptions(s: ClusterSettings): string[] {
    const os = s.downloads?.osMirror;
    return os === undefined ? [] : ["-o", `Dir::Etc::SourceList=${APT_SOURCE_FILE}`, "-o", `Dir::Etc::SourceParts=${APT_NO_PARTS_DIR}`, "-o", `Dir::State::Lists=${APT_LISTS_DIR}`];
}

/**
 * curl (and gpg, when the repository is signed) from the OS package source, then the repository
 * key through the configured proxy. Runs before the Kubernetes source exists, so a source
 * without its key never breaks an `apt-get update`.
 */
export function kubernetesKeyPart(s: ClusterSettings): BootstrapPart {
    const repo = aptRepository(s);
    const proxy = s.downloads?.proxy;
    const os = s.downloads?.osMirror;
    const tools = repo.keyUrl ? ["curl", "gpg"] : ["curl"];
    const osApt = ["-q", "-y", ...osAptOptions(s), ...aptDirectOptions(os?.url ? [os.url] : [], proxy)].map(shq).join(" ");
    const lines = [
        `if ! ${tools.map((t) => `command -v ${t} >/dev/null 2>&1`).join(" || ! ")}; then`,
        `  log "kubernetes/key: installing ${tools.join(" ")}"`,
        `  apt-get ${osApt} update`,
        `  apt-get ${osApt} install --no-install-recommends ${tools.join(" ")} ca-certificates`,
        "  gw_note_change kubernetes-tools",
        "fi",
    ];
    if (repo.keyUrl) {
        const curl = ["curl", "-fsSL", "--retry", "5", ...curlProxyArgs(repo.keyUrl, proxy), shq(repo.keyUrl)].join(" ");
        lines.push(
            `if [ ! -s '${KUBERNETES_APT.aptKeyring}' ]; then`,
            `  log "kubernetes/key: fetching the repository key from ${repo.keyUrl}"`,
            "  install -d -m 0755 /etc/apt/keyrings",
            `  ${curl} | gpg --dearmor > '${KUBERNETES_APT.aptKeyring}.new'`,
            `  mv -f '${KUBERNETES_APT.aptKeyring}.new' '${KUBERNETES_APT.aptKeyring}'`,
            `  gw_note_change '${KUBERNETES_APT.aptKeyring}'`,
            "fi",
        );
    }
    return { name: "kubernetes/key", files: [], script: lines.join("\n"), undo: `gw_remove '${KUBERNETES_APT.aptKeyring}'` };
}

/**
 * kubeadm, kubelet, kubectl, cri-tools and kubernetes-cni at their pins (installed only when a
 * pin differs), each held. With an OS mirror (air-gap) apt reads only the step's own list — that
 * mirror and the Kubernetes repository — like the engine's step reads only its own; with the
 * distribution, the machine's sources plus the Kubernetes one. Kernel modules, sysctls and swap
 * are the engine layer's (engine/host), which always runs first.
 */
export function kubernetesPackagesPart(s: ClusterSettings): BootstrapPart {
    const repo = aptRepository(s);
    const os = s.downloads?.osMirror;
    const own = os !== undefined;
    const listPath = own ? KUBERNETES_APT.aptOwnList : KUBERNETES_APT.aptSource;
    const list = own ? `${repo.line}\n${aptSourceLine(os)}\n` : `${repo.line}\n`;
    const files: BootstrapFile[] = [{ path: listPath, content: list }];
    const absent = [own ? KUBERNETES_APT.aptSource : KUBERNETES_APT.aptOwnList];
    const opts = ["-q", "-y"];
    if (own) opts.push("-o", `Dir::Etc::SourceList=${KUBERNETES_APT.aptOwnList}`, "-o", `Dir::Etc::SourceParts=${APT_NO_PARTS_DIR}`, "-o", `Dir::State::Lists=${KUBERNETES_APT.aptLists}`);
    opts.push(...aptDirectOptions([repo.url, ...(os?.url ? [os.url] : [])], s.downloads?.proxy));
    const want = bareVersion(s.kubernetesVersion);
    const kubeadmPin = kubernetesPackages(s).find((p) => p.startsWith("kubeadm="))!;
    const script = [
        `gw_kube_apt() { apt-get ${opts.map(shq).join(" ")} "$@"; }`,
        ...(own ? [`install -d -m 0755 ${APT_NO_PARTS_DIR} ${KUBERNETES_APT.aptLists}/partial`] : []),
        ...wantedPins(kubernetesPackages(s)),
        ...upgradeGate(want, kubeadmPin),
        'if [[ ${#wanted[@]} -gt 0 && $gw_kube_upgrade == 0 ]]; then',
        '  log "kubernetes: installing ${wanted[*]}"',
        "  start=$SECONDS",
        "  gw_kube_apt update",
        '  gw_kube_apt install --no-install-recommends --allow-change-held-packages --allow-downgrades "${pins[@]}"',
        "  gw_note_change kubernetes-packages",
        '  log "kubernetes: packages installed in $((SECONDS - start))s"',
        "fi",
        "held=$(apt-mark showhold)",
        'for pin in "${pins[@]}"; do',
        '  if ! grep -qx "${pin%%=*}" <<<"$held"; then apt-mark hold "${pin%%=*}" >/dev/null; gw_note_change "hold:${pin%%=*}"; fi',
        "done",
        "systemctl enable kubelet >/dev/null 2>&1",
    ].join("\n");
    // A reset: kubelet stops and stays off (kubeadm reset, run before, left it nothing to run).
    const undo = 'if systemctl is-enabled --quiet kubelet 2>/dev/null || systemctl is-active --quiet kubelet; then systemctl disable --now kubelet >/dev/null 2>&1; gw_note_change kubelet; log "reset: kubelet stopped and disabled"; fi';
    return { name: "kubernetes", files, absent, script, undo, packages: kubernetesPackages(s).map((p) => p.split("=")[0]) };
}

/**
 * A node of the cluster (kubelet.conf) whose kubelet package is not at the wanted version is
 * upgraded, the kubeadm way, not by installing new packages over it: first refused when the
 * change is a downgrade or skips a minor (kubeadm supports neither; nothing is touched), else only
 * kubeadm moves to the new version here and `gw_kube_upgrade=1` tells the kubeadm part to run
 * `kubeadm upgrade` and then move kubelet, kubectl and the tools (kubeletUpgradeSteps). The
 * kubelet's version is the one compared, because it moves last: a run that stopped half way
 * finds the node still to upgrade and does the remaining steps again.
 */
function upgradeGate(want: string, kubeadmPin: string): string[] {
    return [
        "gw_kube_upgrade=0",
        `gw_kube_want=${shq(want)}`,
        `if [[ -f /etc/kubernetes/kubelet.conf ]] && gw_kube_have=$(dpkg-query -W --showformat='\${Version}' kubelet 2>/dev/null) && [[ -n $gw_kube_have && \${gw_kube_have%%-*} != "$gw_kube_want" ]]; then`,
        "  gw_kube_have=${gw_kube_have%%-*}",
        '  IFS=. read -r -a gw_have_v <<<"$gw_kube_have"',
        '  IFS=. read -r -a gw_want_v <<<"$gw_kube_want"',
        `  if [[ $(printf '%s\\n%s\\n' "$gw_kube_have" "$gw_kube_want" | sort -V | head -n 1) == "$gw_kube_want" ]]; then`,
        '    log "kubernetes: this node runs Kubernetes $gw_kube_have; $gw_kube_want is a downgrade, which kubeadm does not do: set cluster.kubernetesVersion to $gw_kube_have or newer (nothing was changed)"',
        "    exit 1",
        "  fi",
        "  if (( gw_want_v[0] != gw_have_v[0] || gw_want_v[1] > gw_have_v[1] + 1 )); then",
        '    log "kubernetes: this node runs Kubernetes $gw_kube_have; $gw_kube_want skips a minor version, which kubeadm does not do: upgrade to ${gw_have_v[0]}.$((gw_have_v[1] + 1)).x first (nothing was changed)"',
        "    exit 1",
        "  fi",
        "  gw_kube_upgrade=1",
        '  log "kubernetes: upgrading this node from $gw_kube_have to $gw_kube_want, kubeadm first"',
        `  if [[ $(dpkg-query -W --showformat='\${Version}' kubeadm 2>/dev/null || true) != ${shq(kubeadmPin.split("=")[1])} ]]; then`,
        "    gw_kube_apt update",
        `    gw_kube_apt install --no-install-recommends --allow-change-held-packages ${shq(kubeadmPin)}`,
        "    gw_note_change kubeadm-upgrade",
        "  fi",
        "fi",
    ];
}

/**
 * The end of an upgrade, after `kubeadm upgrade` (the kubeadm part runs it when
 * `gw_kube_upgrade=1`): kubelet, kubectl and the tools at their pins, held, and kubelet restarted
 * on its new binary and the configuration kubeadm wrote.
 */
export function kubeletUpgradeSteps(): string[] {
    return [
        '  log "kubernetes: kubelet, kubectl and the tools to $gw_kube_want"',
        '  gw_kube_apt install --no-install-recommends --allow-change-held-packages --allow-downgrades "${pins[@]}"',
        '  for pin in "${pins[@]}"; do apt-mark hold "${pin%%=*}" >/dev/null; done',
        "  systemctl daemon-reload",
        "  systemctl restart kubelet",
        "  gw_note_change kubelet-upgrade",
    ];
}

/** The key step, then the packages step. */
export function kubernetesPackagesParts(s: ClusterSettings): BootstrapPart[] {
    return [kubernetesKeyPart(s), kubernetesPackagesPart(s)];
}
