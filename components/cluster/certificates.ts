import { BootstrapPart, shq } from "../engine/bootstrap";
import { PATHS } from "./parts";

/** The renewal script every control plane gets. */
export const RENEW_CERTIFICATES_PATH = "/usr/local/sbin/groundwork-renew-certificates";
/** Its systemd service and the daily timer that runs it. */
export const RENEW_UNIT = "groundwork-renew-certificates";
/** The last on-demand renewal request a control plane carried out (cluster.certificates.renewRequest). */
export const RENEW_REQUEST_PATH = "/var/lib/groundwork/certificates-renew-request";

/** What cluster.certificates asks for. */
export interface CertificateRenewal {
    /** Renew when a certificate expires within this many days. */
    renewBeforeDays: number;
    /** Check every day (a systemd timer) and renew when due. */
    autoRenew: boolean;
    /** Any new value renews at once, control plane by control plane (the rollout). */
    renewRequest?: string;
}

/**
 * The renewal: when any certificate kubeadm made (the pki's leaf certificates and the client
 * certificates in the control plane's kubeconfigs) expires within GROUNDWORK_RENEW_BEFORE_DAYS
 * days, or with `--now`, `kubeadm certs renew all` with the control plane's ClusterConfiguration,
 * then each control-plane static pod is restarted so it loads them (its manifest moved out until
 * its container is gone, then back until it runs again: kubeadm's documented way). The CAs are
 * never renewed here (groundwork made the cluster CA; it lasts ten years).
 */
export function renewCertificatesScript(days: number): string {
    return `#!/bin/bash
# groundwork: renews kubeadm's certificates on this control plane when one expires within
# GROUNDWORK_RENEW_BEFORE_DAYS days (or with --now), then restarts the control-plane static pods.
set -euo pipefail
days=\${GROUNDWORK_RENEW_BEFORE_DAYS:-${days}}
now=0 report=0
if [[ \${1:-} == --now ]]; then now=1; fi
# --report: one line per certificate, "expiry <name> <notAfter, UTC ISO 8601>", and nothing renewed.
if [[ \${1:-} == --report ]]; then report=1; fi
log() { echo "[groundwork] certificates: $*"; }
due=0
checked=0
check() { # NAME CERTIFICATE
  local cert=$2 end
  end=$(openssl x509 -enddate -noout <<<"$cert" | cut -d= -f2)
  checked=$((checked + 1))
  if [[ $report -eq 1 ]]; then echo "expiry \${1#/etc/kubernetes/} $(date -u -d "$end" +%Y-%m-%dT%H:%M:%SZ)"; return; fi
  if ! openssl x509 -checkend $((days * 86400)) -noout <<<"$cert" >/dev/null; then
    due=1
    log "$1 expires $end (within $days days)"
  fi
}
for f in /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/etcd/*.crt; do
  [[ -f $f ]] || continue
  case \${f#/etc/kubernetes/pki/} in ca.crt | front-proxy-ca.crt | etcd/ca.crt) continue ;; esac
  check "$f" "$(cat "$f")"
done
for k in /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf /etc/kubernetes/controller-manager.conf /etc/kubernetes/scheduler.conf; do
  [[ -f $k ]] || continue
  data=$(sed -n 's/^ *client-certificate-data: *//p' "$k" | head -n 1)
  [[ -n $data ]] || continue
  check "$k" "$(base64 -d <<<"$data")"
done
if [[ $checked -eq 0 ]]; then log "no certificate of kubeadm's here (not a control plane yet)"; exit 0; fi
if [[ $report -eq 1 ]]; then exit 0; fi
if [[ $due -eq 0 && $now -eq 0 ]]; then log "$checked certificate(s), none expires within $days days"; exit 0; fi
log "renewing all of kubeadm's certificates"
kubeadm certs renew all --config ${shq(PATHS.clusterConfig)}
for c in kube-apiserver kube-controller-manager kube-scheduler etcd; do
  m=/etc/kubernetes/manifests/$c.yaml
  [[ -f $m ]] || continue
  mv "$m" "/etc/kubernetes/$c.yaml.renewing"
  for _ in $(seq 1 120); do if [[ -z $(crictl ps -q --name "^$c\\$") ]]; then break; fi; sleep 1; done
  mv "/etc/kubernetes/$c.yaml.renewing" "$m"
  up=0
  for _ in $(seq 1 300); do if [[ -n $(crictl ps -q --state running --name "^$c\\$") ]]; then up=1; break; fi; sleep 1; done
  if [[ $up -eq 0 ]]; then log "$c did not run again within 300 s after its restart; see crictl ps -a --name $c"; exit 1; fi
  log "$c restarted on the renewed certificates"
done
log "renewed: $(openssl x509 -enddate -noout -in /etc/kubernetes/pki/apiserver.crt | cut -d= -f2) is the API server's new expiry"
`;
}

/**
 * A control plane's certificate renewal (cluster.certificates): the renewal script, its service
 * and, with autoRenew, a daily timer (randomised within an hour, caught up after downtime); a new
 * `renewRequest` renews at once when the bootstrap converges (the rollout takes the control planes
 * one at a time), once per value.
 */
export function certificatesPart(c: CertificateRenewal): BootstrapPart {
    const service = `[Unit]\nDescription=groundwork: renew kubeadm's certificates before they expire\nAfter=kubelet.service\n\n[Service]\nType=oneshot\nExecStart=${RENEW_CERTIFICATES_PATH}\n`;
    const timer = `[Unit]\nDescription=groundwork: check kubeadm's certificates every day\n\n[Timer]\nOnCalendar=daily\nRandomizedDelaySec=3600\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`;
    const unitDir = "/etc/systemd/system";
    const files = [
        { path: RENEW_CERTIFICATES_PATH, content: renewCertificatesScript(c.renewBeforeDays), mode: "0755" },
        { path: `${unitDir}/${RENEW_UNIT}.service`, content: service },
        ...(c.autoRenew ? [{ path: `${unitDir}/${RENEW_UNIT}.timer`, content: timer }] : []),
    ];
    const lines = [
        `if gw_changed ${unitDir}; then systemctl daemon-reload; fi`,
        ...(c.autoRenew
            ? [`if ! systemctl is-enabled --quiet ${RENEW_UNIT}.timer 2>/dev/null || ! systemctl is-active --quiet ${RENEW_UNIT}.timer; then systemctl enable --now ${RENEW_UNIT}.timer >/dev/null 2>&1; gw_note_change ${RENEW_UNIT}.timer; log "certificates: renewal checked daily (${c.renewBeforeDays} days before expiry)"; fi`]
            : [`if systemctl is-enabled --quiet ${RENEW_UNIT}.timer 2>/dev/null; then systemctl disable --now ${RENEW_UNIT}.timer >/dev/null 2>&1; gw_note_change ${RENEW_UNIT}.timer; fi`]),
    ];
    if (c.renewRequest !== undefined) {
        const req = shq(c.renewRequest);
        lines.push(
            `if [[ -f /etc/kubernetes/manifests/kube-apiserver.yaml && $(cat ${RENEW_REQUEST_PATH} 2>/dev/null || true) != ${req} ]]; then`,
            `  log "certificates: renewal request "${req}`,
            `  ${RENEW_CERTIFICATES_PATH} --now`,
            `  install -d -m 0755 ${RENEW_REQUEST_PATH.replace(/\/[^/]+$/, "")}`,
            `  printf '%s\\n' ${req} > ${RENEW_REQUEST_PATH}`,
            "  gw_note_change certificates-renewed",
            "fi",
        );
    }
    const undo = `if systemctl is-enabled --quiet ${RENEW_UNIT}.timer 2>/dev/null || systemctl is-active --quiet ${RENEW_UNIT}.timer; then systemctl disable --now ${RENEW_UNIT}.timer >/dev/null 2>&1; gw_note_change ${RENEW_UNIT}.timer; fi`;
    return { name: "kubernetes/certificates", files, absent: c.autoRenew ? [] : [`${unitDir}/${RENEW_UNIT}.timer`], script: lines.join("\n"), undo };
}

/** The report of one control plane's certificates: `expiry <name> <ISO>` lines (renewCertificatesScript --report). */
export const REPORT_CERTIFICATES_COMMAND = `${RENEW_CERTIFICATES_PATH} --report`;

/** One control plane's certificate expiry, from its report: each certificate's notAfter and the earliest of them. */
export interface CertificateExpiry {
    earliest: string;
    certificates: Record<string, string>;
}

/** Parses the report (other lines, the log's, are skipped); undefined when it names no certificate. */
export function parseExpiryReport(stdout: string): CertificateExpiry | undefined {
    const certificates: Record<string, string> = {};
    for (const m of stdout.matchAll(/^expiry (\S+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/gm)) certificates[m[1]] = m[2];
    const all = Object.values(certificates).sort();
    return all.length === 0 ? undefined : { earliest: all[0], certificates };
}
