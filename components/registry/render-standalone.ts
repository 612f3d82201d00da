import { stringify } from "yaml";
import { BootstrapPart, placeholder, placeholdersIn, shq } from "../engine/bootstrap";
import { EngineConfig } from "../engine/config";
import { packagesPart } from "../engine/render-apt";
import { trustPart } from "../engine/render-host";
import { MachineSpec } from "../machines/machine";
import { RegistryConfig } from "./config";

/** Debian 12 packages the standalone registry machine installs, pinned like every other package. */
export const STANDALONE_REGISTRY_PACKAGES: Record<string, string> = {
    "docker-registry": "2.8.2+ds1-1",
};

/** Where the standalone registry keeps its files. Outside /etc/docker/registry: that is the package's conffile. */
export const STANDALONE_PATHS = {
    config: "/etc/groundwork/registry/config.yml",
    cert: "/etc/groundwork/registry/tls/registry.crt",
    key: "/etc/groundwork/registry/tls/registry.key",
    ca: "/etc/groundwork/registry/tls/ca.crt",
    htpasswd: "/etc/groundwork/registry/htpasswd",
    dropIn: "/etc/systemd/system/docker-registry.service.d/10-groundwork.conf",
    storage: "/var/lib/docker-registry",
} as const;

export const DEFAULT_STANDALONE_PORT = 5000;

/** Everything the standalone registry machine needs, as plain text (the component resolves Outputs first). */
export interface StandaloneRegistryInput {
    /** Name clients use; must be in the certificate's SANs. */
    host: string;
    /** Defaults to 5000. */
    port?: number;
    /** PEM of the server certificate (leaf first, then intermediates). */
    certPem: string;
    /** PEM of the server certificate's private key. A secret: the component keeps it one. */
    keyPem: string;
    /** PEM of the CA that signed certPem, used by the bootstrap's own health check. */
    caPem: string;
    /**
     * htpasswd lines `user:$2y$…` (bcrypt only: distribution rejects other schemes). Hashed on the
     * host (random.RandomPassword.bcryptHash), so no plaintext password reaches the machine.
     */
    htpasswd: string;
}

const HTPASSWD_LINE = /^[^:\s]+:\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Problems with the input, each a sentence; empty when the input can be rendered. */
export function validateStandaloneInput(input: StandaloneRegistryInput): string[] {
    const problems: string[] = [];
    const port = input.port ?? DEFAULT_STANDALONE_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`port must be 1-65535, got ${port}`);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(input.host)) problems.push(`host must be a DNS name or address without port, got "${input.host}"`);
    // A deploy-time placeholder (`groundwork render`) stands for a value the Pulumi program fills in.
    const isPlaceholder = (s: string) => /^@@GROUNDWORK:[a-z0-9-]+@@$/.test(s.trim()) && placeholdersIn(s).length === 1;
    for (const [k, marker] of [["certPem", "CERTIFICATE"], ["caPem", "CERTIFICATE"], ["keyPem", "PRIVATE KEY"]] as const) {
        if (!isPlaceholder(input[k]) && !new RegExp(`-----BEGIN [A-Z ]*${marker}-----`).test(input[k])) problems.push(`${k} must be a PEM ${marker.toLowerCase()}`);
    }
    const lines = input.htpasswd.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) problems.push("htpasswd must hold at least one user");
    for (const l of lines) {
        if (!HTPASSWD_LINE.test(l) && !isPlaceholder(l.slice(l.indexOf(":") + 1))) problems.push(`htpasswd line for "${l.split(":")[0]}" must be user:<bcrypt hash>`);
    }
    return problems;
}

/** The distribution registry's config.yml: TLS, htpasswd auth, filesystem storage. */
export function renderRegistryConfig(port: number = DEFAULT_STANDALONE_PORT): string {
    const doc = {
        version: 0.1,
        log: { level: "info", fields: { service: "registry" } },
        storage: {
            cache: { blobdescriptor: "inmemory" },
            filesystem: { rootdirectory: STANDALONE_PATHS.storage },
            // Mirrors are append-only: deleting would break nodes that resolved a digest.
            delete: { enabled: false },
        },
        http: {
            addr: `:${port}`,
            tls: { certificate: STANDALONE_PATHS.cert, key: STANDALONE_PATHS.key },
            headers: { "X-Content-Type-Options": ["nosniff"] },
        },
        auth: { htpasswd: { realm: "groundwork-registry", path: STANDALONE_PATHS.htpasswd } },
        health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
    };
    return stringify(doc, { lineWidth: 0 });
}

function renderDropIn(): string {
    return [
        "# groundwork: run the registry from groundwork's config (the package's own config.yml is left alone).",
        "[Service]",
        "ExecStart=",
        `ExecStart=/usr/bin/docker-registry serve ${STANDALONE_PATHS.config}`,
        "Restart=on-failure",
        "RestartSec=2",
        "",
    ].join("\n");
}

/**
 * The registry's bash fragment: hand the key and htpasswd to the
 * service's group, restart only when this run changed a registry file (or the service is down),
 * then wait until /v2/ answers 401 over TLS (TLS and auth both on).
 */
function renderScript(host: string, port: number): string {
    const p = STANDALONE_PATHS;
    const url = `https://${host}:${port}/v2/`;
    return String.raw`# db:Status-Status, not Status: a held package reads "hold ok installed".
if [[ $(dpkg-query -W --showformat='${"$"}{db:Status-Status}' docker-registry 2>/dev/null || true) != installed ]]; then
  echo "[groundwork] registry: docker-registry is not installed; put packagesPart(engine, STANDALONE_REGISTRY_PACKAGES) before this part" >&2
  exit 1
fi
for f in ${shq(p.key)} ${shq(p.htpasswd)}; do
  if [[ $(stat -c %G:%a "$f") != docker-registry:640 ]]; then chgrp docker-registry "$f"; chmod 0640 "$f"; gw_note_change "$f"; fi
done
install -d -o docker-registry -g docker-registry -m 0750 ${shq(p.storage)}
if gw_changed /etc/groundwork/registry ${shq(p.dropIn)} || ! systemctl is-active --quiet docker-registry; then
  log "registry: (re)starting docker-registry"
  systemctl daemon-reload
  systemctl enable --quiet docker-registry
  systemctl restart docker-registry
  gw_note_change service:docker-registry
fi
registry_code=000
for _ in $(seq 1 60); do
  registry_code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ${shq(p.ca)} --resolve ${shq(`${host}:${port}:127.0.0.1`)} ${shq(url)} || true)
  [[ $registry_code == 401 ]] && break
  sleep 1
done
if [[ $registry_code != 401 ]]; then
  log "registry: ${url} answered $registry_code, expected 401 (TLS and auth on); last journal lines:"
  journalctl -u docker-registry --no-pager -n 20 || true
  exit 1
fi
log "registry: ${url} is up (TLS, htpasswd auth)"`;
}

/**
 * The standalone registry's BootstrapPart: Debian's docker-registry (CNCF distribution) with
 * TLS and htpasswd auth on `port`. The package itself comes from the engine layer's package
 * machinery, which runs first: see standaloneRegistryParts. Same input → byte-identical output.
 */
export function standaloneRegistryPart(input: StandaloneRegistryInput): BootstrapPart {
    const problems = validateStandaloneInput(input);
    if (problems.length > 0) throw new Error(`standalone registry: ${problems.join("; ")}`);
    const port = input.port ?? DEFAULT_STANDALONE_PORT;
    const p = STANDALONE_PATHS;
    const htpasswd = input.htpasswd.split("\n").filter((l) => l.trim() !== "").join("\n") + "\n";
    return {
        name: "registry",
        files: [
            { path: p.config, content: renderRegistryConfig(port) },
            { path: p.cert, content: input.certPem },
            { path: p.ca, content: input.caPem },
            { path: p.key, content: input.keyPem, mode: "0640" },
            { path: p.htpasswd, content: htpasswd, mode: "0640" },
            { path: p.dropIn, content: renderDropIn() },
        ],
        script: renderScript(input.host, port),
        // A reset: the service stops with its configuration gone; its images stay in the storage folder.
        undo: 'if systemctl is-enabled --quiet docker-registry 2>/dev/null || systemctl is-active --quiet docker-registry; then systemctl disable --now docker-registry >/dev/null 2>&1; systemctl daemon-reload; gw_note_change docker-registry; log "reset: docker-registry stopped and disabled"; fi',
    };
}

/**
 * The registry machine's parts: the stack's private CAs and the registry's own in the OS trust
 * store (like every node: an HTTPS mirror signed by a private CA must be trusted before apt
 * runs), the engine's package source and pins (apt mirror, proxy, holds) installing
 * STANDALONE_REGISTRY_PACKAGES, then the registry itself. No container engine. `noProxy`: the
 * platform's no_proxy entries, as every node's apt gets them. Defaults to none.
 */
export function standaloneRegistryParts(engine: EngineConfig, input: StandaloneRegistryInput, noProxy: string[] = []): BootstrapPart[] {
    const own = input.caPem.trim() + "\n";
    const cas = engine.caCertificates.some((c) => c.trim() === own.trim()) ? engine.caCertificates : [...engine.caCertificates, own];
    return [trustPart({ ...engine, caCertificates: cas }), packagesPart({ ...engine, packages: {} }, STANDALONE_REGISTRY_PACKAGES, noProxy), standaloneRegistryPart(input)];
}

/** Deploy-time values of the registry machine's bootstrap, as `groundwork render` shows them: name → what fills it. */
export const STANDALONE_PLACEHOLDERS: Record<string, string> = {
    "registry-ca": "PEM of the registry's CA (@pulumi/tls, generated at deploy time)",
    "registry-cert": "PEM of the registry's server certificate, signed by that CA for its name and address",
    "registry-key": "PEM of the server certificate's private key (a Pulumi secret)",
    "registry-password-bcrypt": "bcrypt hash of the generated registry password (random.RandomPassword.bcryptHash)",
};

/**
 * The registry machine's parts for `groundwork render`: like the StandaloneRegistry component's,
 * with placeholders where deploy-time values go. Empty for every other machine or mode.
 */
/** The user nodes and operators authenticate to the standalone registry as, unless another is given. */
export const DEFAULT_REGISTRY_USER = "groundwork";

export function standaloneRenderParts(config: RegistryConfig, machine: MachineSpec, engine: EngineConfig, username = DEFAULT_REGISTRY_USER, noProxy: string[] = []): BootstrapPart[] {
    if (config.mode !== "standalone" || machine.role !== "registry") return [];
    return standaloneRegistryParts(engine, {
        host: config.hostname ?? machine.address,
        port: config.port ?? DEFAULT_STANDALONE_PORT,
        certPem: placeholder("registry-cert"),
        keyPem: placeholder("registry-key"),
        caPem: placeholder("registry-ca"),
        htpasswd: `${username}:${placeholder("registry-password-bcrypt")}`,
    }, noProxy);
}
