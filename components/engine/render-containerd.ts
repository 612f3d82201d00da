import { BootstrapFile } from "./bootstrap";
import { DEFAULT_SANDBOX_IMAGE, EngineConfig } from "./config";
import { trustedCaPaths } from "./render-host";

export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
/** containerd's per-registry host configuration folder (`config_path`). */
export const CERTS_D = "/etc/containerd/certs.d";
export const CONTAINERD_SOCKET = "unix:///run/containerd/containerd.sock";

const HEADER = "# groundwork: rendered; do not edit on the machine";

/** Where a registry host's pulls go when no mirror answers. Docker Hub's API lives elsewhere. */
export function upstreamServer(host: string, insecure: boolean): string {
    if (host === "docker.io") return "https://registry-1.docker.io";
    return `${insecure ? "http" : "https"}://${host}`;
}

/** A TOML basic string (JSON's escapes are valid TOML). */
function toml(s: string): string {
    return JSON.stringify(s);
}

/**
 * The sandbox image, from the internal registry when the platform mirrors the Kubernetes images
 * there: `registry.k8s.io/pause:3.10` with `registry.local:5000/k8s` → `registry.local:5000/k8s/pause:3.10`
 * (the same place kubeadm's imageRepository points).
 */
export function sandboxImage(config: EngineConfig, imageRepository?: string): string {
    const image = config.sandboxImage ?? DEFAULT_SANDBOX_IMAGE;
    if (imageRepository === undefined) return image;
    const nameAndTag = image.slice(image.lastIndexOf("/") + 1);
    return `${imageRepository.replace(/\/+$/, "")}/${nameAndTag}`;
}

/**
 * The credential of the platform's own registry (a standalone registry answers only with
 * htpasswd auth). Generated at deploy time, never user config; the config.toml holding it is
 * written 0600.
 */
export interface RegistryAuth {
    /** `host:port` as containerd contacts it (the mirror endpoint's authority; `host` alone on 443). */
    authority: string;
    username: string;
    password: string;
}

/**
 * containerd 1.6/1.7 `config.toml` (format version 2): the systemd cgroup driver kubelet
 * expects, the sandbox image, and registry hosts read from CERTS_D per pull. With `auth`, the
 * CRI's `registry.configs."<authority>".auth` table: containerd 1.6/1.7 looks it up by the host
 * it contacts (mirrors from hosts.toml included) when kubelet passes no credential of its own;
 * hosts.toml has no place for credentials. Defaults to no credential.
 */
export function renderContainerdConfig(config: EngineConfig, imageRepository?: string, auth?: RegistryAuth): string {
    const authTable = auth === undefined
        ? []
        : [
              `[plugins."io.containerd.grpc.v1.cri".registry.configs.${toml(auth.authority)}.auth]`,
              `  username = ${toml(auth.username)}`,
              `  password = ${toml(auth.password)}`,
              "",
          ];
    return [
        HEADER,
        "version = 2",
        "",
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = ${toml(sandboxImage(config, imageRepository))}`,
        "",
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '  runtime_type = "io.containerd.runc.v2"',
        "",
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        "  SystemdCgroup = true",
        "",
        '[plugins."io.containerd.grpc.v1.cri".registry]',
        `  config_path = ${toml(CERTS_D)}`,
        "",
        ...authTable,
    ].join("\n");
}

/** One registry host containerd has a hosts.toml for. */
export interface RegistryHostConfig {
    /** `docker.io`, `registry.example:5000`, … (the folder name under CERTS_D). */
    host: string;
    /** Mirror endpoints tried in order before the upstream server. */
    endpoints: string[];
    /** Plain HTTP (only with allowInsecureRegistries). */
    insecure: boolean;
}

/** Every host that needs a hosts.toml: mirrored hosts and allowed insecure ones, sorted. */
export function registryHosts(config: EngineConfig): RegistryHostConfig[] {
    const byHost = new Map<string, RegistryHostConfig>();
    for (const m of config.mirrors) byHost.set(m.host, { host: m.host, endpoints: [...(byHost.get(m.host)?.endpoints ?? []), ...m.endpoints], insecure: false });
    if (config.allowInsecureRegistries) {
        for (const h of config.insecureRegistries) byHost.set(h, { host: h, endpoints: byHost.get(h)?.endpoints ?? [], insecure: true });
    }
    return [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
}

const EMPTY_HOST_TREE_NOTE = "# no other endpoints: an empty host tree (containerd 1.6/1.7 ignore a hosts.toml without one)";

/**
 * `/etc/containerd/certs.d/<host>/hosts.toml`: the mirrors first (pull and resolve only), then
 * the upstream server. An endpoint with a path (Harbor's `/v2/<project>`) is used as written
 * (`override_path`). HTTPS endpoints trust the private CAs, named by their files in the OS trust
 * store (`caPaths`): each CA is written once per machine, never copied per registry host.
 *
 * With `noUpstream` (air-gap) a mirrored host never falls back to the upstream registry:
 * containerd always tries the root `server` last, and an absent `server` means the upstream
 * itself, so the last mirror endpoint becomes the `server` and the others stay `[host]` entries.
 */
export function renderHostsToml(entry: RegistryHostConfig, caPaths: string[] = [], noUpstream = false): string {
    const ca = caPaths.length === 0 ? undefined : caPaths.length === 1 ? toml(caPaths[0]) : `[${caPaths.map(toml).join(", ")}]`;
    if (noUpstream && !entry.insecure && entry.endpoints.length > 0) {
        const last = entry.endpoints[entry.endpoints.length - 1];
        const others = entry.endpoints.slice(0, -1).flatMap((ep) => ["", `[host.${toml(ep)}]`, ...endpointLines(ep, ca, "  ")]);
        // containerd 1.6 and 1.7 refuse a hosts.toml with no host tree ("invalid `host` tree",
        // containerd#10027) and then fall back to the upstream: an empty one keeps the root server.
        const tree = others.length === 0 ? ["", EMPTY_HOST_TREE_NOTE, "[host]"] : others;
        return [HEADER, ...endpointLines(last, ca, ""), ...tree].join("\n") + "\n";
    }
    const server = upstreamServer(entry.host, entry.insecure);
    const lines = [HEADER, `server = ${toml(server)}`];
    if (ca !== undefined && server.startsWith("https:")) lines.push(`ca = ${ca}`);
    for (const ep of entry.endpoints) lines.push("", `[host.${toml(ep)}]`, ...endpointLines(ep, ca, "  "));
    if (entry.insecure) lines.push("", `[host.${toml(server)}]`, '  capabilities = ["pull", "resolve", "push"]');
    return lines.join("\n") + "\n";
}

/** A mirror endpoint's settings (`ca` already in TOML form): at the root (`server = …` first) or indented under its `[host]` table. */
function endpointLines(ep: string, ca: string | undefined, indent: string): string[] {
    const u = new URL(ep);
    const lines = indent === "" ? [`server = ${toml(ep)}`] : [];
    lines.push(`${indent}capabilities = ["pull", "resolve"]`);
    if (u.pathname !== "/" && u.pathname !== "") lines.push(`${indent}override_path = true`);
    if (ca !== undefined && u.protocol === "https:") lines.push(`${indent}ca = ${ca}`);
    return lines;
}

/**
 * config.toml (0600 when it holds the registry credential, 0644 otherwise) and per registry host
 * its hosts.toml (without upstream fallback when `noUpstream`).
 */
export function containerdFiles(config: EngineConfig, imageRepository?: string, auth?: RegistryAuth, noUpstream = false): BootstrapFile[] {
    const caPaths = trustedCaPaths(config);
    const files: BootstrapFile[] = [{ path: CONTAINERD_CONFIG, content: renderContainerdConfig(config, imageRepository, auth), mode: auth === undefined ? "0644" : "0600" }];
    for (const entry of registryHosts(config)) files.push({ path: `${CERTS_D}/${entry.host}/hosts.toml`, content: renderHostsToml(entry, caPaths, noUpstream) });
    return files;
}

/** Per-host CA copies earlier versions wrote into folders groundwork owns (its hosts.toml is there): made absent. */
export function staleContainerdCaCopies(config: EngineConfig): string[] {
    return registryHosts(config).map((e) => `${CERTS_D}/${e.host}/ca.crt`);
}

/**
 * Bash that removes certs.d folders groundwork wrote earlier (their hosts.toml starts with our
 * header) for hosts no longer configured; folders others made are left alone.
 */
export function staleCertsDCleanup(config: EngineConfig): string {
    const keep = registryHosts(config).map((e) => e.host);
    return [
        `for d in ${CERTS_D}/*/; do`,
        '  d=${d%/}',
        `  if [[ ! -f $d/hosts.toml || $(head -n 1 "$d/hosts.toml") != '${HEADER}' ]]; then continue; fi`,
        `  case \${d##*/} in ${keep.length > 0 ? `${keep.map((h) => `'${h}'`).join(" | ")}) continue ;;` : ""}`,
        "  esac",
        '  gw_remove "$d/hosts.toml"',
        '  gw_remove "$d/ca.crt"',
        '  rmdir "$d" 2>/dev/null || true',
        "done",
    ].join("\n");
}
