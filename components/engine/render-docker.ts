import { BootstrapFile } from "./bootstrap";
import { EngineConfig } from "./config";

export const DOCKER_DAEMON_JSON = "/etc/docker/daemon.json";

/**
 * Whether dockerd accepts a URL in `registry-mirrors`: http or https, no user, and no path,
 * query or fragment (moby's `registry.ValidateMirror`; dockerd refuses to start otherwise).
 * A Harbor proxy-cache endpoint (`https://harbor/v2/<project>`) has a path: docker cannot use it.
 */
export function dockerAcceptsMirror(endpoint: string): boolean {
    let u: URL;
    try {
        u = new URL(endpoint);
    } catch {
        return false;
    }
    return (u.protocol === "http:" || u.protocol === "https:") && u.username === "" && u.password === "" && (u.pathname === "" || u.pathname === "/") && u.search === "" && u.hash === "";
}

/**
 * docker `daemon.json`: the systemd cgroup driver, bounded json logs, Docker Hub mirrors
 * (docker mirrors docker.io only; other hosts' mirrors reach Kubernetes through containerd), and
 * plain-HTTP registries only when allowInsecureRegistries is set. Keys in a fixed order.
 *
 * Only the Docker Hub endpoints dockerd accepts go into `registry-mirrors` (see
 * dockerAcceptsMirror): one with a path would stop dockerd from starting. Kubernetes never
 * pulls through dockerd (kubelet uses containerd's CRI, whose hosts.toml takes every endpoint,
 * paths included), so those endpoints still serve every pod.
 */
export function renderDaemonJson(config: EngineConfig): string {
    const mirrors = config.mirrors.filter((m) => m.host === "docker.io").flatMap((m) => m.endpoints).filter(dockerAcceptsMirror);
    const insecure = config.allowInsecureRegistries ? [...config.insecureRegistries].sort() : [];
    const doc: Record<string, unknown> = {
        "exec-opts": ["native.cgroupdriver=systemd"],
        "log-driver": "json-file",
        "log-opts": { "max-file": "3", "max-size": "50m" },
        "storage-driver": "overlay2",
    };
    if (mirrors.length > 0) doc["registry-mirrors"] = mirrors;
    if (insecure.length > 0) doc["insecure-registries"] = insecure;
    return JSON.stringify(doc, null, 2) + "\n";
}

/**
 * daemon.json only. docker trusts the private CAs through the OS trust store (it starts from the
 * system pool for every registry, and restarts when the trust store changes), so no CA is copied
 * into `/etc/docker/certs.d`.
 */
export function dockerFiles(config: EngineConfig): BootstrapFile[] {
    return [{ path: DOCKER_DAEMON_JSON, content: renderDaemonJson(config) }];
}
