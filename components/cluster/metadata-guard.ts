import { BootstrapPart } from "../engine/bootstrap";

/** The link-local address of OpenStack's (and most clouds') metadata service. */
export const METADATA_ADDRESS = "169.254.169.254";

export const METADATA_GUARD = {
    script: "/usr/local/sbin/groundwork-metadata-guard",
    unit: "/etc/systemd/system/groundwork-metadata-guard.service",
} as const;

/**
 * The guard itself (POSIX sh): drops packets from the pod CIDR to the metadata address, adding
 * the rule only when it is missing. It sits in the raw table's PREROUTING, which every packet a
 * pod sends passes before any filter chain: CNIs insert their own FORWARD chains first and accept
 * pod traffic there (Calico's cali-FORWARD), so a FORWARD drop behind them would never be reached.
 * Host processes (cloud-init, a host-network cloud controller) are not in the pod CIDR.
 */
export function renderMetadataGuard(podCidr: string): string {
    return [
        "#!/bin/sh",
        "# groundwork: pods must not read the metadata service (it serves this machine's user-data).",
        "set -eu",
        `if iptables -t raw -C PREROUTING -s ${podCidr} -d ${METADATA_ADDRESS}/32 -j DROP 2>/dev/null; then`,
        `  echo "[groundwork] metadata guard: pods (${podCidr}) are already kept from ${METADATA_ADDRESS}"`,
        "else",
        `  iptables -t raw -I PREROUTING 1 -s ${podCidr} -d ${METADATA_ADDRESS}/32 -j DROP`,
        `  echo "[groundwork] metadata guard: dropping packets from ${podCidr} to ${METADATA_ADDRESS}"`,
        "fi",
        "",
    ].join("\n");
}

/**
 * Installs the guard and a unit that re-applies it at every boot (iptables rules do not survive
 * a reboot), and applies it now. Idempotent.
 */
export function metadataGuardPart(podCidr: string): BootstrapPart {
    const unit = [
        "[Unit]",
        "Description=groundwork: keep pods from the metadata service",
        "Wants=network-pre.target",
        "Before=network-pre.target kubelet.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=${METADATA_GUARD.script}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    const script = [
        "if ! command -v iptables >/dev/null 2>&1; then",
        "  apt-get update -q",
        "  apt-get install -y --no-install-recommends iptables",
        "  gw_note_change package:iptables",
        "fi",
        `if gw_changed '${METADATA_GUARD.unit}'; then systemctl daemon-reload; fi`,
        "systemctl enable groundwork-metadata-guard.service >/dev/null 2>&1",
        `'${METADATA_GUARD.script}'`,
    ].join("\n");
    return {
        name: "metadata-guard",
        files: [
            { path: METADATA_GUARD.script, content: renderMetadataGuard(podCidr), mode: "0755" },
            { path: METADATA_GUARD.unit, content: unit, mode: "0644" },
        ],
        script,
        // A reset: the unit goes with its files; the rules it inserted last until the next boot.
        undo: `if systemctl is-enabled --quiet groundwork-metadata-guard.service 2>/dev/null; then systemctl disable groundwork-metadata-guard.service >/dev/null 2>&1; gw_note_change metadata-guard; fi`,
    };
}
