import { createHash } from "crypto";
import { stringify } from "yaml";
import { shq } from "../kit/shell";

/** A file a bootstrap part puts on the machine. */
export interface BootstrapFile {
    path: string;
    content: string;
    /** Octal mode, e.g. "0644". Defaults to "0644". */
    mode?: string;
}

/**
 * One layer's contribution to a machine's first boot: files, then a bash fragment. Parts run in
 * the order given (identity, engine, then cluster, registry, …). Fragments must be idempotent.
 *
 * Fragments may call the helpers every bootstrap script defines:
 * - `log MESSAGE…` prints `[groundwork] +<seconds>s MESSAGE`;
 * - `gw_put PATH MODE` writes stdin to PATH only when content or mode differ, and records it;
 * - `gw_remove PATH` removes PATH when it exists, and records it;
 * - `gw_note_change WHAT` records a change that is not a file (a package install, a restart);
 * - `gw_changed PREFIX…` is true when this run changed something at or under a PREFIX
 *   (a path, or a `gw_note_change` name).
 * A second run of the same script changes nothing and reports `0 change(s)`.
 */
export interface BootstrapPart {
    /** Short name, shown in progress lines (`[groundwork] engine/packages: …`). */
    name: string;
    files: BootstrapFile[];
    /** Paths this part makes sure do not exist (files a previous config wrote). Defaults to none. */
    absent?: string[];
    /** Bash run with `set -euo pipefail`; may be empty. */
    script: string;
    /**
     * Bash the host's reset (renderResetScript) runs for this part after removing its files: what
     * the part set going that is not a file (a service, kubeadm's state). Idempotent; may also call
     * `gw_remove_tree PATH`, which the reset script defines. Defaults to none.
     */
    undo?: string;
    /** apt packages this part installs and holds: a purging reset removes them. Defaults to none. */
    packages?: string[];
}

/** Who logs in, and the machine's identity. */
export interface BootstrapIdentity {
    hostname: string;
    sshUser: string;
    sshAuthorizedKeys: string[];
}

export const BOOTSTRAP_PATH = "/usr/local/sbin/groundwork-bootstrap";

/**
 * The placeholder for a value known only at deploy time (a generated token, a CA made by
 * @pulumi/tls): `@@GROUNDWORK:<name>@@`. The Pulumi program substitutes it; `groundwork render`
 * leaves it visible.
 */
export function placeholder(name: string): string {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`placeholder name must be lower-case words joined by '-', got "${name}"`);
    return `@@GROUNDWORK:${name}@@`;
}

/** Names of the placeholders in a text, sorted and without repeats. */
export function placeholdersIn(text: string): string[] {
    return [...new Set([...text.matchAll(/@@GROUNDWORK:([a-z0-9][a-z0-9-]*)@@/g)].map((m) => m[1]))].sort();
}

function heredocMarker(content: string): string {
    let marker = "GROUNDWORK_EOF";
    while (content.includes(marker)) marker += "_";
    return marker;
}

export { shq } from "../kit/shell";

function checkPath(path: string, part: string): void {
    if (!/^\/[A-Za-z0-9._:@+/-]+$/.test(path) || path.includes("/../") || path.endsWith("/")) {
        throw new Error(`bootstrap part ${part}: "${path}" is not an absolute file path of plain characters`);
    }
}

// Helpers every fragment may use; see BootstrapPart.
const PREAMBLE = String.raw`GW_T0=$SECONDS
log() { echo "[groundwork] +$((SECONDS - GW_T0))s $*"; }
declare -A GW_CHANGED=()
gw_note_change() { GW_CHANGED[$1]=1; }
# gw_put PATH MODE: stdin becomes PATH, only when content or mode differ.
gw_put() {
  local path=$1 mode=$2 tmp
  tmp="$path.groundwork-new"
  # Only a missing folder is made; an existing one keeps its mode (~/.ssh stays 0700).
  [[ -d \${path%/*} ]] || install -d -m 0755 "\${path%/*}"
  (umask 077 && cat >"$tmp") # never world-readable before its chmod: keys and passwords pass through here
  chmod "$mode" "$tmp"
  if [[ -f $path ]] && cmp -s "$tmp" "$path" && [[ $(stat -c %a "$path") == "$(stat -c %a "$tmp")" ]]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$path"
    gw_note_change "$path"
    log "wrote $path"
  fi
}
gw_remove() {
  if [[ -e $1 ]]; then
    rm -f "$1"
    gw_note_change "$1"
    log "removed $1"
  fi
}
gw_changed() {
  local p c
  for p in "$@"; do
    for c in "\${!GW_CHANGED[@]}"; do
      if [[ $c == "$p" || $c == "$p"/* ]]; then return 0; fi
    done
  done
  return 1
}`.replace(/\\\$/g, "$");

/**
 * The login user on every machine, also where no cloud-init creates it (bare metal): the user,
 * passwordless sudo, and exactly the configured SSH keys. On VMs it confirms what cloud-init did.
 */
export function identityPart(identity: BootstrapIdentity): BootstrapPart {
    const user = identity.sshUser;
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`ssh user must be a POSIX user name, got "${user}"`);
    const u = shq(user);
    const lines = [
        `if ! id -u ${u} >/dev/null 2>&1; then`,
        `  useradd --create-home --shell /bin/bash --user-group ${u}`,
        `  gw_note_change user:${user}`,
        `  log "identity: created user ${user}"`,
        "fi",
    ];
    if (identity.sshAuthorizedKeys.length > 0) {
        const keys = identity.sshAuthorizedKeys.join("\n");
        lines.push(
            `home=$(getent passwd ${u} | cut -d: -f6)`,
            `install -d -m 0700 -o ${u} -g "$(id -gn ${u})" "$home/.ssh"`,
            `gw_put "$home/.ssh/authorized_keys" 0600 <<'${heredocMarker(keys)}'`,
            keys,
            heredocMarker(keys),
            `if [[ $(stat -c %U "$home/.ssh/authorized_keys") != ${u} ]]; then chown ${u}: "$home/.ssh/authorized_keys"; fi`,
        );
    }
    return {
        name: "identity",
        files: [{ path: `/etc/sudoers.d/90-groundwork-${user}`, content: `${user} ALL=(ALL) NOPASSWD:ALL\n`, mode: "0440" }],
        script: lines.join("\n"),
    };
}

function renderPart(part: BootstrapPart): string[] {
    const lines = ["", `# --- ${part.name} ---`];
    if (part.files.length > 0 || (part.absent ?? []).length > 0) lines.push(`log ${shq(`${part.name}: ${part.files.length} file(s)`)}`);
    for (const f of part.files) {
        checkPath(f.path, part.name);
        const mode = f.mode ?? "0644";
        if (!/^0[0-7]{3}$/.test(mode)) throw new Error(`bootstrap part ${part.name}: mode of ${f.path} must be octal like 0644, got "${mode}"`);
        const marker = heredocMarker(f.content);
        lines.push(`gw_put ${shq(f.path)} ${mode} <<'${marker}'`, f.content.replace(/\n$/, ""), marker);
    }
    for (const p of part.absent ?? []) {
        checkPath(p, part.name);
        lines.push(`gw_remove ${shq(p)}`);
    }
    if (part.script.trim() !== "") lines.push(`log ${shq(`${part.name}: running`)}`, part.script.trimEnd());
    return lines;
}

/**
 * The one bootstrap script: the login user first, then every part's files and fragment. Bare
 * metal runs it over SSH; VMs get it from cloud-init. Same input → byte-identical output.
 */
export function renderBootstrapScript(identity: BootstrapIdentity, parts: BootstrapPart[]): string {
    return renderPartsScript(identity.hostname, [identityPart(identity), ...parts]);
}

/** The first lines of every rendered script (bootstrap, reset): strict bash and the helpers, for a checked host name. */
function scriptHead(hostname: string, what: string): string[] {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(hostname)) throw new Error(`hostname must be a DNS name, got "${hostname}"`);
    return ["#!/bin/bash", `# groundwork ${what} — rendered; ${what === "bootstrap" ? "do not edit on the machine" : "run when the host leaves the platform"}. Safe to run again: a second run changes nothing.`, "set -euo pipefail", "export DEBIAN_FRONTEND=noninteractive", "umask 022", PREAMBLE];
}

/** A bootstrap script of exactly these parts (no login user); renderBootstrapScript adds it. */
export function renderPartsScript(hostname: string, parts: BootstrapPart[]): string {
    const host = hostname;
    const lines = [
        ...scriptHead(host, "bootstrap"),
        "",
        `log "bootstrap of ${host} starting"`,
    ];
    for (const part of parts) lines.push(...renderPart(part));
    lines.push(
        "",
        "# What is applied: the digest of this very file, when it runs from one (cloud-init's copy, or the",
        "# copy a converge installs). A converge compares it with the script it brings and runs only on a difference.",
        `if [[ -f \${BASH_SOURCE[0]:-} ]]; then`,
        "  [[ -d /var/lib/groundwork ]] || install -d -m 0755 /var/lib/groundwork",
        `  sha256sum <"\${BASH_SOURCE[0]}" | cut -d' ' -f1 >${APPLIED_DIGEST_PATH}.new && mv -f ${APPLIED_DIGEST_PATH}.new ${APPLIED_DIGEST_PATH}`,
        "fi",
        `log "bootstrap of ${host} done: \${#GW_CHANGED[@]} change(s)"`,
        "",
    );
    return lines.join("\n");
}

/**
 * Where a bootstrap run from its file records the sha256 of that file once it finished: the
 * converge script (components/machines/converge.ts) compares it with the script it brings.
 */
export const APPLIED_DIGEST_PATH = "/var/lib/groundwork/bootstrap.applied";

/** sha256 (hex) of a text: the digest of a rendered script, as `sha256sum` prints it. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The digest's inputs, part by part: each part's name (the login user's is `identity`) with the
 * first 12 hex digits of the sha256 of its rendered lines. A preview shows which of them changed,
 * so a reviewer sees why a machine converges. A part name given twice gets `#2`, `#3`.
 */
export function partDigests(identity: BootstrapIdentity, parts: BootstrapPart[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const part of [identityPart(identity), ...parts]) {
        let key = part.name;
        for (let i = 2; key in out; i++) key = `${part.name}#${i}`;
        out[key] = sha256Hex(renderPart(part).join("\n")).slice(0, 12);
    }
    return out;
}

/** Folders and files that are groundwork's alone on a host: a reset removes them whole. */
export const GROUNDWORK_TREES = ["/etc/groundwork", "/var/lib/groundwork", BOOTSTRAP_PATH] as const;

/** What a reset leaves of the engine: `reset` keeps it (without groundwork's configuration), `purge` removes every package the parts installed. */
export type ResetMode = "reset" | "purge";

/**
 * The script a host runs when it leaves the platform (bare metal: `pulumi destroy`, or the host
 * taken out of its group): the parts in reverse order, each losing the files it wrote and running
 * its `undo` (kubeadm reset, services stopped); then groundwork's own folders (join material,
 * kubeadm configs, the CA copies); with `purge`, every package the parts installed, the engine's
 * included. The login user, its sudo rule and its SSH keys stay: the operator reaches the host
 * with them. Holds paths only, never a file's content: no secret is in it. A second run changes
 * nothing and reports `0 change(s)`.
 */
export function renderResetScript(hostname: string, parts: BootstrapPart[], mode: ResetMode): string {
    const lines = [
        ...scriptHead(hostname, "reset"),
        'gw_remove_tree() { if [[ -e $1 || -L $1 ]]; then rm -rf -- "$1"; gw_note_change "$1"; log "removed $1"; fi; }',
        "",
        `log "reset of ${hostname} starting (${mode})"`,
    ];
    const own = parts.filter((p) => p.name !== "identity");
    for (const part of [...own].reverse()) {
        const paths = [...new Set(part.files.map((f) => f.path))];
        if (paths.length === 0 && (part.undo ?? "").trim() === "") continue;
        lines.push("", `# --- ${part.name} ---`);
        for (const p of paths) {
            checkPath(p, part.name);
            lines.push(`gw_remove ${shq(p)}`);
        }
        if ((part.undo ?? "").trim() !== "") lines.push(part.undo!.trimEnd());
    }
    lines.push("", "# --- groundwork's own folders ---", ...GROUNDWORK_TREES.map((t) => `gw_remove_tree ${shq(t)}`));
    const packages = [...new Set(own.flatMap((p) => p.packages ?? []))].sort();
    if (mode === "purge" && packages.length > 0) {
        lines.push(
            "",
            "# --- packages (purge) ---",
            `pkgs=(${packages.map(shq).join(" ")})`,
            "present=()",
            `for p in "\${pkgs[@]}"; do if dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then present+=("$p"); fi; done`,
            'if [[ ${#present[@]} -gt 0 ]]; then',
            '  log "reset: purging ${present[*]}"',
            '  apt-mark unhold "${present[@]}" >/dev/null',
            '  apt-get -q -y purge "${present[@]}"',
            "  gw_note_change packages",
            "fi",
        );
    }
    lines.push("", `log "reset of ${hostname} done: \${#GW_CHANGED[@]} change(s)"`, "");
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
