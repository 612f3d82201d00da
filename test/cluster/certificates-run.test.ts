/**
 * Certificate renewal on a control plane (issue 13, item 4), for real: the rendered renewal script
 * run by bash as root in a private mount namespace whose /etc is a copy (/usr/local and /var/lib
 * scratch folders), on a pki and kubeconfigs
 * that the real kubeadm v1.33.13 made there (`kubeadm init phase certs all`, `… kubeconfig all`),
 * renewed by the real kubeadm (`kubeadm certs renew all`). crictl is a stand-in that records the
 * static pods' restarts (a container runs while its manifest is in place). Oracle: openssl.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { clusterSettings } from "../../components/cluster";
import { certificatesPart, parseExpiryReport, renewCertificatesScript, RENEW_CERTIFICATES_PATH } from "../../components/cluster/certificates";
import { renderClusterConfiguration } from "../../components/cluster/kubeadm";
import { renderPartsScript } from "../../components/engine/bootstrap";
import { k8sBinary } from "../support/kubernetes";
import { parse, rawPlatform } from "./fixture";

const CRICTL = `#!/bin/bash
# ps [-q] [--state running] --name ^NAME$: an id while /etc/kubernetes/manifests/NAME.yaml exists.
name=$(sed -n 's/.*--name \\^\\([a-z-]*\\)\\$.*/\\1/p' <<<"$*")
if [[ -f /etc/kubernetes/manifests/$name.yaml ]]; then echo "id-$name"; else echo "crictl: $name stopped" >> "$GW_LOG"; fi
if [[ $* == *running* && -f /etc/kubernetes/manifests/$name.yaml ]]; then echo "crictl: $name running" >> "$GW_LOG"; fi
`;

describe("certificate renewal on a control plane (real kubeadm v1.33.13, bash, for real)", function () {
    this.timeout(180_000);
    const made: string[] = [];
    after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const spec = parse(rawPlatform("baremetal", 1, 0, { controlPlaneEndpoint: { mode: "external", address: "10.20.0.5" } }));
    const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", backends: ["baremetal"] });

    /** Runs `steps` (bash) in the namespace after kubeadm made the pki; returns the output and the stand-in's log. */
    function run(steps: string): { status: number | null; output: string; log: string } {
        const dir = mkdtempSync(join(tmpdir(), "gw-certs-"));
        made.push(dir);
        execFileSync("mkdir", ["-p", join(dir, "bin")]);
        writeFileSync(join(dir, "bin", "crictl"), CRICTL, { mode: 0o755 });
        execFileSync("ln", ["-s", k8sBinary("kubeadm"), join(dir, "bin", "kubeadm")]);
        const init = `apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: 10.20.2.10, bindPort: 6443}\nnodeRegistration: {name: gw-cp-1}\n---\n${renderClusterConfiguration(settings)}`;
        writeFileSync(join(dir, "init.yaml"), init);
        writeFileSync(join(dir, "cluster.yaml"), renderClusterConfiguration(settings));
        writeFileSync(join(dir, "steps.sh"), steps);
        const driver = [
            "set -e",
            `cp -a /etc ${dir}/etc 2>/dev/null || true`,
            `mount --bind ${dir}/etc /etc`,
            // The part writes the script to /usr/local/sbin and records requests under /var/lib/groundwork: scratch too.
            `mkdir -p ${dir}/usr-local/sbin ${dir}/var-lib && mount --bind ${dir}/usr-local /usr/local && mount --bind ${dir}/var-lib /var/lib`,
            "rm -rf /etc/groundwork /etc/kubernetes",
            "install -d /etc/groundwork/kubeadm /etc/kubernetes/manifests",
            `cp ${dir}/cluster.yaml /etc/groundwork/kubeadm/cluster.yaml`,
            `kubeadm init phase certs all --config ${dir}/init.yaml >/dev/null`,
            `kubeadm init phase kubeconfig all --config ${dir}/init.yaml >/dev/null`,
            "for c in kube-apiserver kube-controller-manager kube-scheduler etcd; do echo \"kind: Pod # $c\" > /etc/kubernetes/manifests/$c.yaml; done",
            `bash ${dir}/steps.sh`,
        ].join("\n");
        const r = spawnSync("unshare", ["-m", "bash", "-c", driver], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: `${dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`, GW_LOG: join(dir, "log"), GW_DIR: dir }, timeout: 150_000 });
        let log = "";
        try {
            log = execFileSync("cat", [join(dir, "log")]).toString();
        } catch {
            // nothing logged
        }
        return { status: r.status, output: r.stdout + r.stderr, log };
    }

    const serials = 'for f in /etc/kubernetes/pki/apiserver.crt /etc/kubernetes/pki/etcd/server.crt; do openssl x509 -serial -noout -in "$f"; done; sed -n "s/^ *client-certificate-data: *//p" /etc/kubernetes/admin.conf | base64 -d | openssl x509 -serial -noout';

    it("the script passes shellcheck", () => {
        const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: renewCertificatesScript(30), encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    });

    it("leaves fresh certificates alone (one year left, 30 days asked), and renews them all when they are due, restarting the four static pods", () => {
        const script = renewCertificatesScript(30);
        const r = run([
            `cat > "$GW_DIR/renew" <<'EOF'\n${script}EOF`,
            `echo "before: $({ ${serials}; } | tr '\\n' ' ')"`,
            'bash "$GW_DIR/renew"',
            `echo "after-fresh: $({ ${serials}; } | tr '\\n' ' ')"`,
            'GROUNDWORK_RENEW_BEFORE_DAYS=400 bash "$GW_DIR/renew"',
            `echo "after-due: $({ ${serials}; } | tr '\\n' ' ')"`,
            "ls /etc/kubernetes/manifests | tr '\\n' ' '; echo",
        ].join("\n"));
        assert.strictEqual(r.status, 0, r.output);
        // 11 leaf certificates (apiserver ×3, front-proxy-client, etcd ×4, …) and 4 kubeconfigs: fresh, none due.
        assert.match(r.output, /certificates: 1[0-9] certificate\(s\), none expires within 30 days/);
        const line = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(r.output)![1];
        assert.strictEqual(line("after-fresh"), line("before"));
        // Due within 400 days: every certificate named, all renewed (new serials), each static pod stopped and running again, in order.
        assert.match(r.output, /\/etc\/kubernetes\/pki\/apiserver\.crt expires .* \(within 400 days\)/);
        assert.match(r.output, /\/etc\/kubernetes\/admin\.conf expires/);
        const before = line("before").trim().split(" ");
        const after = line("after-due").trim().split(" ");
        assert.strictEqual(after.length, 3);
        after.forEach((s, i) => assert.notStrictEqual(s, before[i], `certificate ${i} was not renewed`));
        assert.deepStrictEqual(r.log.trim().split("\n"), ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"].flatMap((c) => [`crictl: ${c} stopped`, `crictl: ${c} running`]));
        assert.match(r.output, /^etcd\.yaml kube-apiserver\.yaml kube-controller-manager\.yaml kube-scheduler\.yaml $/m);
        assert.match(r.output, /renewed: .* is the API server's new expiry/);
    });

    it("--report names every certificate with its notAfter (as openssl reads it) and renews nothing; the stack output's parse takes the earliest", () => {
        const r = run([
            `cat > "$GW_DIR/renew" <<'EOF'\n${renewCertificatesScript(30)}EOF`,
            'GROUNDWORK_RENEW_BEFORE_DAYS=400 bash "$GW_DIR/renew" --report',
            'echo "oracle apiserver $(openssl x509 -enddate -noout -in /etc/kubernetes/pki/apiserver.crt | cut -d= -f2)"',
            'echo "oracle etcd-ca $(openssl x509 -enddate -noout -in /etc/kubernetes/pki/etcd/ca.crt | cut -d= -f2)"',
            'echo "oracle admin $(sed -n "s/^ *client-certificate-data: *//p" /etc/kubernetes/admin.conf | base64 -d | openssl x509 -enddate -noout | cut -d= -f2)"',
        ].join("\n"));
        assert.strictEqual(r.status, 0, r.output);
        assert.strictEqual(r.log, "", "nothing restarted");
        assert.doesNotMatch(r.output, /renewing|within 400 days/);
        const report = parseExpiryReport(r.output)!;
        const oracle = (n: string) => new Date(new RegExp(`^oracle ${n} (.*)$`, "m").exec(r.output)![1]).toISOString().replace(/\.000Z$/, "Z");
        assert.strictEqual(report.certificates["pki/apiserver.crt"], oracle("apiserver"));
        assert.strictEqual(report.certificates["admin.conf"], oracle("admin"));
        // kubeadm's documented leaf certificates (7) and the client certificates of its 4 kubeconfigs; the CAs are not kubeadm's to renew.
        assert.deepStrictEqual(Object.keys(report.certificates).sort(), [
            "admin.conf", "controller-manager.conf",
            "pki/apiserver-etcd-client.crt", "pki/apiserver-kubelet-client.crt", "pki/apiserver.crt",
            "pki/etcd/healthcheck-client.crt", "pki/etcd/peer.crt", "pki/etcd/server.crt", "pki/front-proxy-client.crt",
            "scheduler.conf", "super-admin.conf",
        ]);
        assert.strictEqual(report.earliest, Object.values(report.certificates).sort()[0]);
        // kubeadm's leaf certificates last one year from now.
        const days = (Date.parse(report.earliest) - Date.now()) / 86_400_000;
        assert.ok(days > 363 && days <= 366, `${days} days`);
    });

    it("the bootstrap part: a renewRequest renews once per value (the converge carries it), and the daily timer is enabled; a second run changes nothing", () => {
        const part = (renewRequest?: string) => renderPartsScript("gw-cp-1", [certificatesPart({ renewBeforeDays: 30, autoRenew: true, ...(renewRequest ? { renewRequest } : {}) })]);
        // Units enabled by `enable` are enabled and active afterwards.
        const systemctl = '#!/bin/bash\necho "systemctl $*" >> "$GW_LOG"\ncase $1 in enable) touch "$GW_DIR/enabled" ;; is-enabled|is-active) test -f "$GW_DIR/enabled" ;; esac';
        const r = run([
            `printf '%s\\n' '${systemctl.replace(/'/g, "'\\''")}' > "$GW_DIR/bin/systemctl"; chmod +x "$GW_DIR/bin/systemctl"`,
            `cat > "$GW_DIR/a" <<'EOF'\n${part("CHG-1001")}EOF`,
            `bash "$GW_DIR/a" | grep -E 'renewal request|renewed|change' || true`,
            `echo "again:"; bash "$GW_DIR/a" | grep -E 'renewal request|done' || true`,
            `cat ${RENEW_CERTIFICATES_PATH} | head -n 2 | tail -n 1`,
        ].join("\n"));
        assert.strictEqual(r.status, 0, r.output);
        assert.strictEqual((r.output.match(/renewal request CHG-1001/g) ?? []).length, 1, r.output);
        assert.match(r.output, /again:\n(.*\n)*?.*bootstrap of gw-cp-1 done: 0 change\(s\)/);
        assert.match(r.log, /systemctl enable --now groundwork-renew-certificates\.timer/);
    });
});
