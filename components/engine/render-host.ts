import { createHash } from "crypto";
import { parseCidr, parseIp } from "../kit/ipv4";
import { BootstrapFile, BootstrapPart } from "./bootstrap";
import { EngineConfig } from "./config";

/** Kernel modules Kubernetes networking needs on every node. */
export const KERNEL_MODULES = ["overlay", "br_netfilter"] as const;

/** Sysctls Kubernetes needs: bridged traffic through iptables, and routing. */
export const SYSCTLS: Record<string, string> = {
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.ipv4.ip_forward": "1",
};

export const MODULES_FILE = "/etc/modules-load.d/90-groundwork-kubernetes.conf";
export const SYSCTL_FILE = "/etc/sysctl.d/90-groundwork-kubernetes.conf";
/** Private CAs go into their own folder of the OS trust store, so stale ones can be removed. */
export const CA_DIR = "/usr/local/share/ca-certificates/groundwork";

const HEADER = "# groundwork: rendered; do not edit on the machine\n";

/**
 * Kernel modules, sysctls and swap off: what kubelet checks before it starts. Files make them
 * survive reboots; the fragment applies them now, only when the running values differ.
 */
export function hostPrepPart(): BootstrapPart {
    const sysctls = Object.entries(SYSCTLS);
    const script = [
        `for m in ${KERNEL_MODULES.join(" ")}; do`,
        '  if [[ ! -d /sys/module/$m ]]; then modprobe "$m"; gw_note_change "module:$m"; fi',
        "done",
        `if ${sysctls.map(([k, v]) => `[[ $(sysctl -n ${k}) != ${v} ]]`).join(" || ")}; then`,
        `  sysctl -q -p ${SYSCTL_FILE}`,
        "  gw_note_change sysctl",
        "fi",
        // kubelet refuses to run with swap on: off now, and off after reboot.
        'if [[ -n $(swapon --noheadings --show=NAME 2>/dev/null) ]]; then swapoff -a; gw_note_change swap; log "engine/host: swap turned off"; fi',
        "if grep -Eq '^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab; then",
        "  sed -i -E 's/^([^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# groundwork: swap off for kubelet # \\1/' /etc/fstab",
        "  gw_note_change /etc/fstab",
        "fi",
    ].join("\n");
    return {
        name: "engine/host",
        files: [
            { path: MODULES_FILE, content: HEADER + KERNEL_MODULES.join("\n") + "\n" },
            { path: SYSCTL_FILE, content: HEADER + sysctls.map(([k, v]) => `${k} = ${v}`).join("\n") + "\n" },
        ],
        script,
    };
}

/** Stable file name of a CA: the start of its digest, so reordering the list rewrites nothing. */
export function caFileName(pem: string): string {
    return `groundwork-${createHash("sha256").update(pem.trim(), "utf8").digest("hex").slice(0, 12)}.crt`;
}

/**
 * Where each private CA lives on the machine: its one file in the OS trust store, which
 * containerd's hosts.toml names directly (docker reads the OS trust store itself).
 */
export function trustedCaPaths(config: EngineConfig): string[] {
    return config.caCertificates.map((pem) => `${CA_DIR}/${caFileName(pem)}`);
}

/**
 * The private CAs in the OS trust store (update-ca-certificates), and nothing else in our folder:
 * a CA dropped from config is removed again.
 */
export function trustPart(config: EngineConfig): BootstrapPart {
    const files: BootstrapFile[] = config.caCertificates.map((pem) => ({ path: `${CA_DIR}/${caFileName(pem)}`, content: pem.trim() + "\n" }));
    const keep = files.map((f) => f.path.slice(CA_DIR.length + 1));
    const script = [
        `for f in ${CA_DIR}/*.crt; do`,
        '  [[ -e $f ]] || continue',
        `  case \${f##*/} in ${keep.length > 0 ? `${keep.join(" | ")}) ;;` : ""}`,
        '    *) gw_remove "$f" ;;',
        "  esac",
        "done",
        `if gw_changed ${CA_DIR}; then`,
        "  if ! command -v update-ca-certificates >/dev/null; then",
        '    echo "[groundwork] engine/trust: update-ca-certificates is missing; install the ca-certificates package" >&2',
        "    exit 1",
        "  fi",
        "  update-ca-certificates --fresh >/dev/null",
        '  log "engine/trust: OS trust store updated"',
        "fi",
    ].join("\n");
    // A reset: the private CAs leave the OS trust store with their folder.
    const undo = [`gw_remove_tree ${CA_DIR}`, `if gw_changed ${CA_DIR} && command -v update-ca-certificates >/dev/null; then update-ca-certificates --fresh >/dev/null; fi`].join("\n");
    return { name: "engine/trust", files, script, undo };
}

/** Does `host` match a no_proxy entry (`.example.com`, `example.com`, `10.0.0.0/8`, an address, `*`)? */
export function bypassesProxy(host: string, noProxy: string[]): boolean {
    const h = host.toLowerCase().replace(/:\d+$/, "");
    const ip = parseIp(h);
    return noProxy.some((raw) => {
        const e = raw.toLowerCase().replace(/:\d+$/, "");
        if (e === "*") return true;
        if (e.includes("/")) {
            const c = parseCidr(e);
            return ip !== undefined && typeof c !== "string" && ip >= c.first && ip <= c.last;
        }
        const domain = e.replace(/^\*?\./, "");
        return h === domain || h.endsWith(`.${domain}`);
    });
}

/** The no_proxy list: loopback first, then config, then what the platform adds; no repeats. */
export function noProxyList(config: EngineConfig, extra: string[] = []): string[] {
    return [...new Set(["localhost", "127.0.0.1", ...(config.proxy?.noProxy ?? []), ...extra])];
}

/** A systemd drop-in giving a service the proxy environment, or undefined without a proxy. */
export function proxyDropIn(config: EngineConfig, extraNoProxy: string[] = []): string | undefined {
    const p = config.proxy;
    if (p === undefined || (p.http === undefined && p.https === undefined)) return undefined;
    const env: string[] = [];
    if (p.http !== undefined) env.push(`HTTP_PROXY=${p.http}`, `http_proxy=${p.http}`);
    if (p.https !== undefined) env.push(`HTTPS_PROXY=${p.https}`, `https_proxy=${p.https}`);
    const noProxy = noProxyList(config, extraNoProxy).join(",");
    env.push(`NO_PROXY=${noProxy}`, `no_proxy=${noProxy}`);
    return `${HEADER}[Service]\n${env.map((e) => `Environment="${e}"`).join("\n")}\n`;
}
