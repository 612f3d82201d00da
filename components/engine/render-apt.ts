import { BootstrapFile, BootstrapPart, shq } from "./bootstrap";
import { EngineConfig, PackageSource } from "./config";
import { bypassesProxy } from "./render-host";

/** The engine's apt source when it installs from an internal mirror. */
export const APT_SOURCE_FILE = "/etc/apt/sources.list.d/groundwork-engine.list";
export const APT_PROXY_FILE = "/etc/apt/apt.conf.d/90groundwork-proxy";
/**
 * With a mirror, apt reads only APT_SOURCE_FILE and keeps its indexes here, so sources the
 * machine cannot reach (air-gap) neither fail the install nor get their indexes dropped.
 */
export const APT_LISTS_DIR = "/var/lib/groundwork/apt/lists";
/** An empty folder: apt reads no sources.list.d when pointed here. */
export const APT_NO_PARTS_DIR = "/var/lib/groundwork/apt/no-source-parts";

const HEADER = "# groundwork: rendered; do not edit on the machine\n";

/** `deb [trusted=yes] URL suite components…` for a mirror source. */
export function aptSourceLine(source: PackageSource): string {
    if (source.url === undefined) throw new Error("a mirror package source needs a url");
    const url = source.url.endsWith("/") ? source.url : `${source.url}/`;
    return `deb ${source.trusted ? "[trusted=yes] " : ""}${url} ${source.suite} ${source.components.join(" ")}`;
}

/** apt's proxy settings; the mirror goes DIRECT when no_proxy (config's and the platform's `extraNoProxy`) covers its host. */
export function aptProxyConf(config: EngineConfig, extraNoProxy: string[] = []): string | undefined {
    const p = config.proxy;
    if (p === undefined || (p.http === undefined && p.https === undefined)) return undefined;
    const lines = [HEADER.trimEnd()];
    if (p.http !== undefined) lines.push(`Acquire::http::Proxy "${p.http}";`);
    if (p.https !== undefined) lines.push(`Acquire::https::Proxy "${p.https}";`);
    const src = config.packageSource;
    if (src.kind === "mirror" && src.url !== undefined) {
        const host = new URL(src.url).hostname;
        if (bypassesProxy(host, [...p.noProxy, ...extraNoProxy])) {
            lines.push(`Acquire::http::Proxy::${host} "DIRECT";`, `Acquire::https::Proxy::${host} "DIRECT";`);
        }
    }
    return lines.join("\n") + "\n";
}

/** Package name → pinned version: the engine's defaults with config's pins over them, by name. */
export function pinnedPackages(defaults: Record<string, string>, config: EngineConfig): [string, string][] {
    return Object.entries({ ...defaults, ...config.packages }).sort(([a], [b]) => a.localeCompare(b));
}

/**
 * apt source, proxy, and the pinned packages: installed (or moved to the pin) only when the
 * installed version differs, then held so unattended upgrades leave them alone. Config files
 * written earlier win over the packages' own (`--force-confold`).
 */
export function packagesPart(config: EngineConfig, defaults: Record<string, string>, extraNoProxy: string[] = []): BootstrapPart {
    const src = config.packageSource;
    const files: BootstrapFile[] = [];
    const absent: string[] = [];
    if (src.kind === "mirror") files.push({ path: APT_SOURCE_FILE, content: HEADER + aptSourceLine(src) + "\n" });
    else absent.push(APT_SOURCE_FILE);
    const proxy = aptProxyConf(config, extraNoProxy);
    if (proxy !== undefined) files.push({ path: APT_PROXY_FILE, content: proxy });
    else absent.push(APT_PROXY_FILE);

    const pins = pinnedPackages(defaults, config);
    const aptOpts = ["-q", "-y", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"];
    if (src.kind === "mirror") {
        aptOpts.push("-o", `Dir::Etc::SourceList=${APT_SOURCE_FILE}`, "-o", `Dir::Etc::SourceParts=${APT_NO_PARTS_DIR}`, "-o", `Dir::State::Lists=${APT_LISTS_DIR}`);
    }
    const script = [
        `gw_apt() { apt-get ${aptOpts.map(shq).join(" ")} "$@"; }`,
        ...(src.kind === "mirror" ? [`install -d -m 0755 ${APT_NO_PARTS_DIR} ${APT_LISTS_DIR}/partial`] : []),
        ...wantedPins(pins.map(([n, v]) => `${n}=${v}`)),
        'if [[ ${#wanted[@]} -gt 0 ]]; then',
        `  log "engine/packages: installing \${wanted[*]} from "${shq(src.kind === "mirror" ? src.url ?? "" : "the distribution's repositories")}`,
        "  gw_apt update",
        '  gw_apt install --no-install-recommends --allow-downgrades --allow-change-held-packages "${wanted[@]}"',
        "  gw_note_change packages",
        "else",
        '  log "engine/packages: all ${#pins[@]} packages at their pinned versions"',
        "fi",
        "held=$(apt-mark showhold)",
        'for pin in "${pins[@]}"; do',
        '  if ! grep -qx "${pin%%=*}" <<<"$held"; then apt-mark hold "${pin%%=*}" >/dev/null; gw_note_change "hold:${pin%%=*}"; fi',
        "done",
    ].join("\n");
    return { name: "engine/packages", files, absent, script, packages: pins.map(([n]) => n) };
}

/**
 * Bash that sets `pins` to the given name=version pins and `wanted` to those not installed at
 * exactly that version; the engine's and the Kubernetes package steps share it.
 */
export function wantedPins(pins: string[]): string[] {
    return [
        `pins=(${pins.map(shq).join(" ")})`,
        "wanted=()",
        'for pin in "${pins[@]}"; do',
        // db:Status-Status, not Status: a held package reads "hold ok installed".
        '  if [[ $(dpkg-query -W --showformat="\\${db:Status-Status} \\${Version}" "${pin%%=*}" 2>/dev/null || true) != "installed ${pin#*=}" ]]; then',
        '    wanted+=("$pin")',
        "  fi",
        "done",
    ];
}
