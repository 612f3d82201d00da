import { BootstrapFile, BootstrapPart, shq } from "./bootstrap";
import { DEFAULT_ENGINE_PACKAGES, EngineConfig, EngineKind } from "./config";
import { packagesPart, pinnedPackages } from "./render-apt";
import { CERTS_D, CONTAINERD_CONFIG, CONTAINERD_SOCKET, containerdFiles, RegistryAuth, staleCertsDCleanup, staleContainerdCaCopies } from "./render-containerd";
import { DOCKER_DAEMON_JSON, dockerFiles } from "./render-docker";
import { CA_DIR, hostPrepPart, proxyDropIn, trustPart } from "./render-host";

/** What the platform tells the engine layer beyond its own config. */
export interface EngineOptions {
    /**
     * The internal registry holding the Kubernetes images (kubeadm's imageRepository, air-gap);
     * the sandbox image is pulled from there. Defaults to none (engine.sandboxImage as written).
     */
    imageRepository?: string;
    /**
     * no_proxy entries the platform knows: node subnet, pod and service CIDRs, cluster domain,
     * registry host. Appended to engine.proxy.noProxy. Defaults to none.
     */
    noProxy?: string[];
    /**
     * The platform registry's generated credential (standalone registry: htpasswd on every
     * request), written into containerd's config.toml for CRI pulls; that file becomes 0600.
     * Docker nodes pull for kubelet through the same containerd. Defaults to none.
     */
    registryAuth?: RegistryAuth;
    /**
     * Air-gapped: a mirrored registry host never falls back to its upstream (hosts.toml's last
     * mirror is its `server`). Defaults to false.
     */
    airGapped?: boolean;
}

/** One container engine: its packages, services, files and health check. */
export interface EngineModule {
    /** Debian/Ubuntu packages with their default pins (engine.packages overrides by name). */
    defaultPackages: Record<string, string>;
    /** systemd services, in start order. */
    services: string[];
    /** Config files written before the packages install, so the first start already uses them. */
    files(config: EngineConfig, opts: EngineOptions): BootstrapFile[];
    /** Paths (and change names) whose change in this run means the service restarts. */
    restartOn: Record<string, string[]>;
    /** Bash that succeeds once the engine answers its API. */
    ready: string;
    /** The CRI endpoint kubelet talks to (dockershim is gone: docker nodes use containerd's CRI too). */
    criSocket: string;
}

const dropInDir = (service: string) => `/etc/systemd/system/${service}.service.d`;
const proxyFile = (service: string) => `${dropInDir(service)}/10-groundwork-proxy.conf`;

function proxyFiles(services: string[], config: EngineConfig, opts: EngineOptions): BootstrapFile[] {
    const dropIn = proxyDropIn(config, opts.noProxy);
    return dropIn === undefined ? [] : services.map((s) => ({ path: proxyFile(s), content: dropIn }));
}

/** The one lookup from engine.kind to its module (kubespray's container-engine roles, in small). */
export const ENGINES: Record<EngineKind, EngineModule> = {
    containerd: {
        defaultPackages: DEFAULT_ENGINE_PACKAGES.containerd,
        services: ["containerd"],
        files: (config, opts) => [...containerdFiles(config, opts.imageRepository, opts.registryAuth, opts.airGapped), ...proxyFiles(["containerd"], config, opts)],
        restartOn: { containerd: [CONTAINERD_CONFIG, dropInDir("containerd"), CA_DIR] },
        ready: "ctr version",
        criSocket: CONTAINERD_SOCKET,
    },
    docker: {
        defaultPackages: DEFAULT_ENGINE_PACKAGES.docker,
        services: ["containerd", "docker"],
        files: (config, opts) => [...containerdFiles(config, opts.imageRepository, opts.registryAuth, opts.airGapped), ...dockerFiles(config), ...proxyFiles(["containerd", "docker"], config, opts)],
        restartOn: {
            containerd: [CONTAINERD_CONFIG, dropInDir("containerd"), CA_DIR],
            docker: [DOCKER_DAEMON_JSON, dropInDir("docker"), CA_DIR],
        },
        ready: "docker info",
        criSocket: CONTAINERD_SOCKET,
    },
};

export function engineModule(kind: EngineKind): EngineModule {
    return ENGINES[kind];
}

/** The engine's packages with their pinned versions, as they will be installed. */
export function enginePackages(config: EngineConfig): [string, string][] {
    return pinnedPackages(engineModule(config.kind).defaultPackages, config);
}

/**
 * Enabled, started, restarted only when its config changed in this run; then waits until the
 * engine answers (60 s at most).
 */
function servicePart(config: EngineConfig): BootstrapPart {
    const mod = engineModule(config.kind);
    const services = Object.values(ENGINES).flatMap((e) => e.services);
    const lines = [
        `if gw_changed ${[...new Set(services)].sort().map(dropInDir).join(" ")}; then systemctl daemon-reload; fi`,
    ];
    for (const svc of mod.services) {
        lines.push(
            `if ! systemctl is-enabled --quiet ${svc}; then systemctl enable --quiet ${svc}; gw_note_change enable:${svc}; fi`,
            `if gw_changed ${mod.restartOn[svc].join(" ")}; then`,
            `  systemctl restart ${svc}`,
            `  gw_note_change restart:${svc}`,
            `  log "engine/service: ${svc} restarted for its new configuration"`,
            `elif ! systemctl is-active --quiet ${svc}; then`,
            `  systemctl start ${svc}`,
            `  gw_note_change start:${svc}`,
            "fi",
        );
    }
    lines.push(
        "for _ in $(seq 1 60); do",
        `  if ${mod.ready} >/dev/null 2>&1; then break; fi`,
        "  sleep 1",
        "done",
        `if ! ${mod.ready} >/dev/null; then`,
        `  echo "[groundwork] engine/service: ${config.kind} does not answer '${mod.ready}' after 60 s; see journalctl -u ${mod.services[mod.services.length - 1]}" >&2`,
        "  exit 1",
        "fi",
        `log "engine/service: ${config.kind} active"`,
    );
    return { name: "engine/service", files: [], script: lines.join("\n") };
}

/**
 * A reset's undo of the engine's configuration: the registry folders left empty go, and a running
 * engine restarts on its own defaults (no mirror, no registry credential of ours).
 */
function configUndo(services: string[], files: BootstrapFile[]): string {
    const folders = [...new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf("/"))).filter((d) => d.startsWith(`${CERTS_D}/`)))].sort();
    return [
        ...folders.map((d) => `if [[ -d ${shq(d)} ]]; then rmdir --ignore-fail-on-non-empty ${shq(d)}; fi`),
        `if gw_changed ${[...new Set(files.map((f) => f.path))].sort().map(shq).join(" ")}; then`,
        ...services.map((svc) => `  if systemctl is-active --quiet ${svc}; then systemctl daemon-reload; systemctl restart ${svc}; gw_note_change restart:${svc}; log "reset: ${svc} restarted without groundwork's configuration"; fi`),
        "fi",
    ].join("\n");
}

/** groundwork's proxy drop-ins that this config does not write (proxy removed): made absent. */
function staleFiles(written: BootstrapFile[]): string[] {
    const paths = new Set(written.map((f) => f.path));
    return [...new Set(Object.values(ENGINES).flatMap((e) => e.services))].map(proxyFile).filter((p) => !paths.has(p)).sort();
}

/**
 * Everything the engine layer puts on a machine, in order: kernel modules, sysctls and swap;
 * private CAs in the OS trust store; engine config files; pinned packages from the configured
 * source; the engine service. The platform calls this per machine; the parts are identical on
 * VMs (cloud-init) and bare metal (SSH).
 */
export function engineParts(config: EngineConfig, opts: EngineOptions = {}): BootstrapPart[] {
    const mod = engineModule(config.kind);
    const files = mod.files(config, opts);
    return [
        hostPrepPart(),
        // Before the packages: an HTTPS mirror signed by the private CA must already be trusted.
        trustPart(config),
        { name: "engine/config", files, absent: [...staleFiles(files), ...staleContainerdCaCopies(config)], script: staleCertsDCleanup(config), undo: configUndo(mod.services, files) },
        packagesPart(config, mod.defaultPackages, opts.noProxy),
        servicePart(config),
    ];
}
