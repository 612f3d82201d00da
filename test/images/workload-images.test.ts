/**
 * The workload images the real cluster runs, run here before any guest does: each image's layers
 * unpacked from the OCI layout in order, its entrypoint started in a chroot as the image's user,
 * in a network namespace of its own, and asked over TCP with the host's own clients (curl,
 * Debian's psql) — independent of the image's contents. Output goes to a file owned by
 * the image's user, as runc hands a container its stdio (nginx reopens /dev/stdout).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BACKUP_RETENTION_DAYS, userDbObjects } from "../../components/workloads/spec-data";
import { ensureWorkloadImages, WORKLOAD_TEST_IMAGES, WorkloadImages } from "../../tools/images/workload-images";

/** Unpacks an image of a layout into a new folder: its layers in the manifest's order. Returns the folder and the image's config. */
function unpack(layout: string, name: string, into: string): { root: string; config: { Entrypoint?: string[]; Env?: string[]; User?: string } } {
    const index = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8")) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    const entry = index.manifests.find((m) => m.annotations["io.containerd.image.name"] === name);
    assert.ok(entry, `${name} is not in ${layout}`);
    const blob = (digest: string) => path.join(layout, "blobs", "sha256", digest.replace(/^sha256:/, ""));
    const manifest = JSON.parse(fs.readFileSync(blob(entry.digest), "utf8")) as { config: { digest: string }; layers: { digest: string }[] };
    const root = fs.mkdtempSync(path.join(into, "rootfs-"));
    fs.chmodSync(root, 0o755);
    for (const l of manifest.layers) execFileSync("tar", ["-xzf", blob(l.digest), "-C", root]);
    for (const d of ["dev", "proc"]) fs.mkdirSync(path.join(root, d), { recursive: true }); // where the runtime mounts /dev and /proc
    return { root, config: (JSON.parse(fs.readFileSync(blob(manifest.config.digest), "utf8")) as { config: object }).config };
}

/**
 * Runs a shell script in new network and mount namespaces (loopback up, the host's /dev and a
 * /proc mounted into each unpacked root as a container runtime gives them); returns stdout, throws with the output on failure.
 */
function inNetns(script: string, roots: string[], timeoutSec = 180): string {
    const mounts = roots.map((r) => `mount --rbind /dev '${r}/dev' && mount -t proc proc '${r}/proc'`).join("\n");
    const r = spawnSync("unshare", ["-n", "-m", "--propagation", "private", "bash", "-c", `set -euo pipefail\nip link set lo up\n${mounts}\n${script}`], { encoding: "utf8", timeout: timeoutSec * 1000 });
    if (r.status !== 0) throw new Error(`script failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** The shell words that start an image's entrypoint in a chroot as its user, with only the image's environment and `env`. */
function startCommand(root: string, config: { Entrypoint?: string[]; Env?: string[]; User?: string }, user: string, args: string[], env: string[] = [], log = "/tmp/gw-img.log"): string {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const [uid, gid] = user.split(":");
    return `install -o ${uid} -g ${gid} -m 600 /dev/null ${log}; ` + ["env", "-i", ...[...(config.Env ?? []), ...env].map(q), "/usr/sbin/chroot", `--userspec=${user}`, q(root), ...[...(config.Entrypoint ?? []), ...args].map(q)].join(" ");
}

/** Waits in the script until a command succeeds (60 tries, 1 s apart). */
const until = (what: string, cmd: string) => `for i in $(seq 60); do if ${cmd} >/dev/null 2>&1; then break; fi; [ "$i" = 60 ] && { echo "${what}: not after 60 s" >&2; cat /tmp/gw-img.log >&2 || true; exit 1; }; sleep 1; done`;

describe("workload images built here run as their roles need (chroot, own network namespace)", function () {
    this.timeout(600_000);
    let images: WorkloadImages;
    let work: string;

    before(async () => {
        images = await ensureWorkloadImages({ log: () => undefined });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "gw-wl-images-"));
    });
    after(() => work && fs.rmSync(work, { recursive: true, force: true }));

    it("lists the four images in its layout and archive", () => {
        assert.deepStrictEqual(images.images.map((i) => i.name).sort(), Object.values(WORKLOAD_TEST_IMAGES).sort());
        const listed = execFileSync("tar", ["-tf", images.tar], { encoding: "utf8" }).split("\n");
        assert.ok(listed.includes("index.json") && listed.includes("oci-layout"), listed.slice(0, 5).join(" "));
    });

    it("postgres: an empty PGDATA is initialised with POSTGRES_USER/PASSWORD/DB; psql logs in with the password only; the rendered backup command dumps and prunes", () => {
        const { root, config } = unpack(images.dir, WORKLOAD_TEST_IMAGES.postgres, work);
        assert.strictEqual(config.User, "999:999");
        fs.mkdirSync(path.join(root, "var/lib/postgresql/data"), { recursive: true });
        fs.chownSync(path.join(root, "var/lib/postgresql/data"), 999, 999);
        const start = startCommand(root, config, "999:999", [], ["POSTGRES_USER=app", "POSTGRES_PASSWORD=s3cret-pw", "POSTGRES_DB=shop"]);
        // The backup's claim, with a dump older than the retention and the Service name the job connects to.
        fs.mkdirSync(path.join(root, "backup"));
        fs.chownSync(path.join(root, "backup"), 999, 999);
        fs.writeFileSync(path.join(root, "backup/users-20200101T000000Z.dump"), "old");
        const old = new Date(Date.now() - (BACKUP_RETENTION_DAYS + 3) * 86400_000);
        fs.utimesSync(path.join(root, "backup/users-20200101T000000Z.dump"), old, old);
        fs.writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost users\n");
        const ctx = { namespace: "apps", ha: false, clusterDomain: "cluster.local" };
        const job = userDbObjects("users", { role: "user-db", image: WORKLOAD_TEST_IMAGES.postgres, replicas: 1, cpuMillis: 250, memoryMiB: 512, storageGiB: 5 }, ctx).objects.find((o) => o.kind === "CronJob")!;
        const script = (job.spec as { jobTemplate: { spec: { template: { spec: { containers: { command: string[] }[] } } } } }).jobTemplate.spec.template.spec.containers[0].command;
        const backup = startCommand(root, config, "999:999", [], ["POSTGRES_USER=app", "POSTGRES_DB=shop", "PGPASSWORD=s3cret-pw"], "/tmp/gw-backup.log").replace(/'\/usr\/local\/bin\/postgres-entrypoint'$/, script.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" "));
        const out = inNetns(
            [
                `${start} >/tmp/gw-img.log 2>&1 &`,
                "pid=$!",
                until("postgres accepting", "pg_isready -h 127.0.0.1 -p 5432"),
                `PGPASSWORD=s3cret-pw psql -q -h 127.0.0.1 -U app -d shop -c "create table orders (id int primary key, item text); insert into orders values (1, 'bolts')"`,
                // Debian's psql on this host, over TCP: the server's auth, not the image's client.
                `PGPASSWORD=s3cret-pw psql -h 127.0.0.1 -U app -d shop -tAc "select current_user || ',' || current_database() || ',' || current_setting('server_version_num')"`,
                // The user database's backup CronJob command as rendered, with the image's own sh, pg_dump, find and rm.
                `${backup} >/tmp/gw-backup.log 2>&1 || { cat /tmp/gw-backup.log >&2; exit 1; }`,
                `pg_restore --list '${root}'/backup/users-*.dump | grep -c 'TABLE DATA public orders'`,
                `if PGPASSWORD=wrong psql -h 127.0.0.1 -U app -d shop -tAc 'select 1' 2>/tmp/bad; then echo "wrong password accepted"; else grep -o 'password authentication failed for user "app"' /tmp/bad; fi`,
                "kill $pid; wait $pid || true",
                "grep -o 'postgres-entrypoint: initialised .*' /tmp/gw-img.log",
            ].join("\n"),
            [root],
        );
        const lines = out.trim().split("\n");
        assert.match(lines[0], /^app,shop,15\d{4}$/, out);
        assert.strictEqual(lines[1], "1", `pg_restore lists the orders table's data once: ${out}`);
        assert.strictEqual(lines[2], 'password authentication failed for user "app"', out);
        assert.strictEqual(lines[3], "postgres-entrypoint: initialised /var/lib/postgresql/data (user app, database shop)", out);
        const dumps = fs.readdirSync(path.join(root, "backup"));
        assert.strictEqual(dumps.length, 1, `the old dump is removed, the new one kept: ${dumps.join(" ")}`);
        assert.match(dumps[0], /^users-\d{8}T\d{6}Z\.dump$/);
        assert.ok(fs.existsSync(path.join(root, "var/lib/postgresql/data/PG_VERSION")));
    });

    it("nginx: serves /usr/share/nginx/html on 8080 as uid 101, writing only under /tmp", () => {
        const { root, config } = unpack(images.dir, WORKLOAD_TEST_IMAGES.nginx, work);
        const before = execFileSync("find", [root, "-newer", path.join(root, "etc/passwd"), "-not", "-path", `${root}/tmp*`], { encoding: "utf8" });
        const out = inNetns([`${startCommand(root, config, "101:101", [])} >/tmp/gw-img.log 2>&1 &`, "pid=$!", until("nginx answering", "curl -sf http://127.0.0.1:8080/"), "curl -sS -D - http://127.0.0.1:8080/", "kill $pid; wait $pid || true"].join("\n"), [root]);
        assert.match(out, /^HTTP\/1\.1 200 OK/m, out);
        assert.match(out, /<title>Welcome to nginx!<\/title>/, out);
        const after = execFileSync("find", [root, "-newer", path.join(root, "etc/passwd"), "-not", "-path", `${root}/tmp*`], { encoding: "utf8" });
        assert.strictEqual(after, before, "nginx wrote outside /tmp");
        // The static site's init container copies the content with the image's own sh and cp.
        inNetns(`env -i /usr/sbin/chroot --userspec=101:101 '${root}' /bin/sh -c 'mkdir /tmp/site && cp -R /usr/share/nginx/html/. /tmp/site/'`, [root]);
        assert.ok(fs.existsSync(path.join(root, "tmp/site/index.html")));
    });

    it("http-echo: answers with its -text on -listen, as a non-root user", () => {
        const { root, config } = unpack(images.dir, WORKLOAD_TEST_IMAGES.webApi, work);
        const out = inNetns([`${startCommand(root, config, "65532:65532", ["-listen=:8080", "-text=orders-api"])} >/tmp/gw-img.log 2>&1 &`, "pid=$!", until("http-echo answering", "curl -sf http://127.0.0.1:8080/"), "curl -sS http://127.0.0.1:8080/", "kill $pid; wait $pid || true"].join("\n"), [root]);
        assert.strictEqual(out.trim(), "orders-api");
    });

    it("nats-server: JetStream on a store folder, token auth, /healthz ok; a client without the token is refused", () => {
        const { root, config } = unpack(images.dir, WORKLOAD_TEST_IMAGES.nats, work);
        fs.mkdirSync(path.join(root, "data"), { mode: 0o777 });
        fs.chmodSync(path.join(root, "data"), 0o777);
        const args = ["--server_name=events-0", "--port=4222", "--http_port=8222", "--jetstream", "--store_dir=/data", "--auth=tok-123"];
        const out = inNetns(
            [
                `${startCommand(root, config, "1000:1000", args)} >/tmp/gw-img.log 2>&1 &`,
                "pid=$!",
                until("nats healthz", "curl -sf http://127.0.0.1:8222/healthz"),
                "curl -sS http://127.0.0.1:8222/healthz; echo",
                "curl -sS 'http://127.0.0.1:8222/varz' | grep -o '\"server_name\": *\"[^\"]*\"'",
                // NATS protocol by hand: CONNECT without the token is refused.
                "exec 3<>/dev/tcp/127.0.0.1/4222; IFS= read -r -t 5 info <&3; echo \"${info:0:4}\"; printf 'CONNECT {\"verbose\":false}\\r\\nPING\\r\\n' >&3; IFS= read -r -t 5 reply <&3; echo \"${reply%$'\\r'}\"",
                "kill $pid; wait $pid || true",
            ].join("\n"),
            [root],
        );
        const lines = out.trim().split("\n");
        assert.strictEqual(lines[0], '{"status":"ok"}', out);
        assert.match(lines[1], /"server_name": *"events-0"/, out);
        assert.strictEqual(lines[2], "INFO", out);
        assert.strictEqual(lines[3], "-ERR 'Authorization Violation'", out);
        assert.ok(fs.readdirSync(path.join(root, "data")).includes("jetstream"), "no JetStream store in /data");
    });
});
