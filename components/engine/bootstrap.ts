import { stringify } from "yaml";

/** A file a bootstrap part puts on the machine. */
export interface BootstrapFile {
    path: string;
    content: string;
    /** Octal mode, e.g. "0644". Defaults to "0644". */
    mode?: string;
}

/**
 * One layer's contribution to a machine's first boot: files, then a bash fragment. Parts run in
 * the order given (engine first, then cluster, registry, …). Fragments must be idempotent.
 */
export interface BootstrapPart {
    /** Short name, shown in progress lines (`[groundwork] engine: …`). */
    name: string;
    files: BootstrapFile[];
    /** Bash run with `set -euo pipefail`; may be empty. */
    script: string;
}

/** Who logs in, and the machine's identity. */
export interface BootstrapIdentity {
    hostname: string;
    sshUser: string;
    sshAuthorizedKeys: string[];
}

export const BOOTSTRAP_PATH = "/usr/local/sbin/groundwork-bootstrap";

function heredocMarker(content: string): string {
    let marker = "GROUNDWORK_EOF";
    while (content.includes(marker)) marker += "_";
    return marker;
}

/**
 * The one bootstrap script: writes every part's files and runs every part's fragment. Bare metal
 * runs it over SSH; VMs get it from cloud-init. Same input → byte-identical output.
 */
export function renderBootstrapScript(identity: BootstrapIdentity, parts: BootstrapPart[]): string {
    const lines = [
        "#!/bin/bash",
        "# groundwork bootstrap — rendered; do not edit on the machine. Safe to run again: a second run changes nothing.",
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        'log() { echo "[groundwork] $*"; }',
        "",
        `log "bootstrap of ${identity.hostname} starting"`,
    ];
    for (const part of parts) {
        lines.push("", `# --- ${part.name} ---`, `log "${part.name}: writing ${part.files.length} file(s)"`);
        for (const f of part.files) {
            const dir = f.path.replace(/\/[^/]*$/, "") || "/";
            const marker = heredocMarker(f.content);
            const body = f.content.endsWith("\n") ? f.content : `${f.content}\n`;
            lines.push(`install -d -m 0755 '${dir}'`, `cat > '${f.path}.groundwork-new' <<'${marker}'`, body.replace(/\n$/, ""), marker);
            lines.push(`chmod ${f.mode ?? "0644"} '${f.path}.groundwork-new'`);
            // Replace only when the content differs, so a second run leaves mtimes and services alone.
            lines.push(`if cmp -s '${f.path}.groundwork-new' '${f.path}'; then rm -f '${f.path}.groundwork-new'; else mv -f '${f.path}.groundwork-new' '${f.path}'; fi`);
        }
        if (part.script.trim() !== "") {
            lines.push(`log "${part.name}: running"`, part.script.trimEnd());
        }
    }
    lines.push("", `log "bootstrap of ${identity.hostname} done"`, "");
    return lines.join("\n");
}

/**
 * cloud-init user-data for VMs: the login user and the very same bootstrap script, written to
 * BOOTSTRAP_PATH and run once by runcmd.
 */
export function renderUserData(identity: BootstrapIdentity, script: string): string {
    const doc = {
        hostname: identity.hostname,
        fqdn: identity.hostname,
        manage_etc_hosts: true,
        users: [
            "default",
            {
                name: identity.sshUser,
                groups: ["sudo"],
                shell: "/bin/bash",
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                lock_passwd: true,
                ...(identity.sshAuthorizedKeys.length > 0 ? { ssh_authorized_keys: identity.sshAuthorizedKeys } : {}),
            },
        ],
        write_files: [{ path: BOOTSTRAP_PATH, permissions: "0700", owner: "root:root", content: script }],
        runcmd: [[BOOTSTRAP_PATH]],
    };
    return `#cloud-config\n${stringify(doc, { lineWidth: 0, sortMapEntries: false })}`;
}
