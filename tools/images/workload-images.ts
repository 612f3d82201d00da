/**
 * The images the real cluster's workloads run (one per role that can be built here), made like
 * the cluster's (tools/images/cluster-images.ts): no engine, no registry; Go programs from
 * tools/kubernetes/build.sh, everything else unpacked from Debian 12 packages.
 *
 *   docker.io/hashicorp/http-echo:1.0.0   web-api's default image: upstream's static binary at
 *                                          the same version on an empty root, as upstream ships it
 *   docker.io/groundwork/nats-server:2.15.2  the queue: nats-server from its Go module (the default
 *                                          nats:2.11.6-alpine is not built here: an honest own name)
 *   docker.io/groundwork/postgres:15-debian12  the user database: Debian's PostgreSQL 15 with an
 *                                          entrypoint that does what the official image's does for
 *                                          POSTGRES_USER/PASSWORD/DB and PGDATA
 *   docker.io/groundwork/nginx:1.22-debian12   the static site's web server and content: Debian's
 *                                          nginx set up as nginx-unprivileged is (8080, non-root,
 *                                          read-only root, temp files in /tmp)
 *
 * ClickHouse (analytics-db) is C++ with no Debian 12 package and no Go module: not built here.
 * Result: ${GROUNDWORK_CACHE:-~/.cache/groundwork}/workloads/images/<key>/{layout/,images.tar,images.json},
 * the key hashing every input.
 *
 *   npx ts-node tools/images/workload-images.ts
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkLinkage, debClosuresMemo, DebPin, downloadDebs } from "./debian";
import { debianRootfs, ImageConfig, LayoutWriter, rootfs, writeArchive } from "./oci";

export const WORKLOAD_TEST_IMAGES = {
    webApi: "docker.io/hashicorp/http-echo:1.0.0",
    nats: "docker.io/groundwork/nats-server:2.15.2",
    postgres: "docker.io/groundwork/postgres:15-debian12",
    nginx: "docker.io/groundwork/nginx:1.22-debian12",
} as const;

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PG_BIN = "/usr/lib/postgresql/15/bin";
/** busybox applets in /bin: the shells and tools the workloads' commands run (init copy, pg_dump script, probes). */
const APPLETS = ["sh", "cp", "date", "find", "mv", "rm", "mkdir", "cat", "ls", "chmod", "mktemp", "sleep"];

/** The packages each Debian-based image is made of: its programs, without their dependencies, and the libraries they link. */
const DEBIAN = {
    postgres: {
        // The server and client programs alone: postgresql-common's and the client's Perl wrappers, locales and LLVM (JIT) are left out.
        programs: ["postgresql-15", "postgresql-client-15", "tzdata"],
        libraries: ["libc6", "libgcc-s1", "libgssapi-krb5-2", "libicu72", "libldap-2.5-0", "liblz4-1", "libpam0g", "libpq5", "libreadline8", "libselinux1", "libssl3", "libstdc++6", "libsystemd0", "libuuid1", "libxml2", "libxslt1.1", "libzstd1", "zlib1g"],
    },
    nginx: {
        programs: ["nginx", "nginx-common"],
        libraries: ["libc6", "libcrypt1", "libpcre2-8-0", "libssl3", "zlib1g"],
    },
};

/** Starts PostgreSQL as the official image does: initdb on an empty PGDATA with POSTGRES_USER/PASSWORD, POSTGRES_DB created, then the server. */
export const POSTGRES_ENTRYPOINT = `#!/bin/sh
set -eu
: "\${PGDATA:?PGDATA must be set}"
: "\${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user="\${POSTGRES_USER:-postgres}"
db="\${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile="$(mktemp /tmp/pgpass.XXXXXX)"
  printf '%s\\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\\n' >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s" OWNER "%s";\\n' "$db" "$user" | postgres --single -D "$PGDATA" -c jit=off postgres > /dev/null
  fi
  echo "postgres-entrypoint: initialised $PGDATA (user $user, database $db)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql -c jit=off "$@"
`;

/** nginx as nginx-unprivileged runs it: port 8080, any non-root user, nothing written outside /tmp. */
export const NGINX_CONF = `worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;
daemon off;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/stdout;
  client_body_temp_path /tmp/client_temp;
  proxy_temp_path /tmp/proxy_temp;
  fastcgi_temp_path /tmp/fastcgi_temp;
  uwsgi_temp_path /tmp/uwsgi_temp;
  scgi_temp_path /tmp/scgi_temp;
  server {
    listen 8080;
    root /usr/share/nginx/html;
    index index.html;
  }
}
`;

export interface WorkloadImages {
    key: string;
    dir: string;
    tar: string;
    images: { name: string; digest: string; bytes: number }[];
    debs: Record<string, DebPin[]>;
    cached: boolean;
    seconds: number;
}

const cacheRoot = () => process.env.GROUNDWORK_CACHE ?? path.join(os.homedir(), ".cache", "groundwork");
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Files written into a new layer folder: path → [content, mode]. */
function filesLayer(files: Record<string, [string, number]>, under: string): string {
    const root = rootfs({}, {}, under);
    for (const [p, [content, mode]] of Object.entries(files)) {
        const at = path.join(root, p);
        fs.mkdirSync(path.dirname(at), { recursive: true });
        fs.writeFileSync(at, content, { mode });
        fs.chmodSync(at, mode);
    }
    return root;
}

/** /etc/passwd and /etc/group with root, nobody and the image's own user. */
function usersLayer(user: { name: string; uid: number; home: string }, under: string): string {
    const root = rootfs({}, { "/tmp": 0o1777, "/etc": 0o755 }, under);
    fs.writeFileSync(path.join(root, "etc/passwd"), `root:x:0:0:root:/root:/sbin/nologin\n${user.name}:x:${user.uid}:${user.uid}:${user.name}:${user.home}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`);
    fs.writeFileSync(path.join(root, "etc/group"), `root:x:0:\n${user.name}:x:${user.uid}:\nnobody:x:65534:\n`);
    return root;
}

/** The workload images as an OCI layout and tar in the cache, built when their key is new. */
export async function ensureWorkloadImages(opts: { binDir?: string; cacheDir?: string; log?: (line: string) => void } = {}): Promise<WorkloadImages> {
    const t0 = Date.now();
    const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const say = (msg: string) => log(`[workload images ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${msg}`);
    const binDir = opts.binDir ?? process.env.GROUNDWORK_K8S_BIN ?? path.join(cacheRoot(), "kubernetes", "bin");
    const cacheDir = opts.cacheDir ?? path.join(cacheRoot(), "workloads", "images");
    const goBinaries = ["http-echo", "nats-server"];
    for (const b of goBinaries) if (!fs.existsSync(path.join(binDir, b))) throw new Error(`${path.join(binDir, b)} is missing: build it with tools/kubernetes/build.sh (rows http-echo-v1.0.0, nats-server-v2.15.2)`);

    // The programs' exact versions from the closure of the programs (the first set), the libraries' closure beside them.
    const sets = [DEBIAN.postgres.programs, DEBIAN.postgres.libraries, DEBIAN.nginx.programs, DEBIAN.nginx.libraries, ["busybox-static"]];
    const closures = debClosuresMemo(sets, path.join(cacheDir, "debs", "closures.json"));
    const pick = (closure: DebPin[], names: string[]) => names.map((n) => closure.find((p) => p.name === n) ?? fail(`apt's closure lacks ${n}`));
    const debs: Record<string, DebPin[]> = {
        postgres: [...pick(closures[0], DEBIAN.postgres.programs), ...closures[1]],
        nginx: [...pick(closures[2], DEBIAN.nginx.programs), ...closures[3]],
        busybox: pick(closures[4], ["busybox-static"]),
    };
    const binaries = Object.fromEntries(goBinaries.map((b) => [b, sha256(fs.readFileSync(path.join(binDir, b)))]));
    const key = sha256(JSON.stringify({ debs, binaries, script: sha256(fs.readFileSync(__filename)), oci: sha256(fs.readFileSync(path.join(__dirname, "oci.ts"))), debian: sha256(fs.readFileSync(path.join(__dirname, "debian.ts"))) })).slice(0, 16);
    const final = path.join(cacheDir, key);
    const summaryFile = path.join(final, "images.json");
    const result = (cached: boolean, images: WorkloadImages["images"]): WorkloadImages => ({ key, dir: path.join(final, "layout"), tar: path.join(final, "images.tar"), images, debs, cached, seconds: (Date.now() - t0) / 1000 });
    if (fs.existsSync(summaryFile)) {
        const done = result(true, (JSON.parse(fs.readFileSync(summaryFile, "utf8")) as { images: WorkloadImages["images"] }).images);
        say(`cached: ${final} (key ${key}, ${done.images.length} images)`);
        return done;
    }

    say(`building ${Object.keys(WORKLOAD_TEST_IMAGES).length} images into ${final} (key ${key})`);
    const work = `${final}.tmp-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    const layers = path.join(work, "layers");
    fs.mkdirSync(layers, { recursive: true });
    try {
        const debCache = path.join(cacheDir, "debs");
        const unpack = (name: string) => {
            const root = debianRootfs(downloadDebs(debs[name], debCache), layers);
            say(`${name} packages: ${debs[name].map((p) => `${p.name}=${p.version}`).join(" ")}`);
            return root;
        };
        // busybox: the static program and its applets, shared by the two Debian images.
        const bbRoot = debianRootfs(downloadDebs(debs.busybox, debCache), layers);
        const busybox = rootfs({ "/bin/busybox": path.join(bbRoot, "bin", "busybox") }, {}, layers);
        fs.rmSync(bbRoot, { recursive: true, force: true });
        for (const a of APPLETS) fs.symlinkSync("busybox", path.join(busybox, "bin", a));

        const postgres = unpack("postgres");
        // JIT is off (the entrypoint says so): its LLVM module would need libLLVM.
        fs.rmSync(path.join(postgres, "usr/lib/postgresql/15/lib/llvmjit.so"), { force: true });
        fs.rmSync(path.join(postgres, "usr/lib/postgresql/15/lib/bitcode"), { recursive: true, force: true });
        fs.rmSync(path.join(postgres, "usr/lib/postgresql/15/lib/llvmjit_types.bc"), { force: true });
        checkLinkage(postgres);
        const nginx = unpack("nginx");
        // Only the program, mime.types and the default page: the packaged site configuration, modules and log folders are not used.
        for (const drop of ["etc/nginx/sites-available", "etc/nginx/sites-enabled", "etc/nginx/modules-enabled", "etc/nginx/nginx.conf", "var/log", "var/lib", "var/www", "etc/init.d", "etc/logrotate.d", "etc/ufw", "lib/systemd", "usr/lib/nginx"]) fs.rmSync(path.join(nginx, drop), { recursive: true, force: true });
        checkLinkage(nginx);

        const writer = new LayoutWriter(path.join(work, "layout"));
        const images: WorkloadImages["images"] = [];
        const add = (name: string, layerDirs: string[], config: ImageConfig) => {
            const built = writer.add({ name, layers: layerDirs, config });
            images.push({ name, digest: built.manifestDigest, bytes: built.bytes });
            say(`${name}: ${layerDirs.length} layer${layerDirs.length === 1 ? "" : "s"}, ${mib(built.bytes)}`);
        };
        add(WORKLOAD_TEST_IMAGES.webApi, [rootfs({ "/http-echo": path.join(binDir, "http-echo") }, {}, layers)], { Entrypoint: ["/http-echo"] });
        add(WORKLOAD_TEST_IMAGES.nats, [rootfs({ "/nats-server": path.join(binDir, "nats-server") }, { "/tmp": 0o1777 }, layers)], { Entrypoint: ["/nats-server"] });
        const pgEntry = filesLayer({ "/usr/local/bin/postgres-entrypoint": [POSTGRES_ENTRYPOINT, 0o755] }, layers);
        // As the official image has it: any user may create the socket and lock there (sticky, setgid).
        fs.mkdirSync(path.join(pgEntry, "var/run/postgresql"), { recursive: true });
        fs.chmodSync(path.join(pgEntry, "var/run/postgresql"), 0o3777);
        fs.mkdirSync(path.join(pgEntry, "var/lib/postgresql/data"), { recursive: true });
        add(WORKLOAD_TEST_IMAGES.postgres, [usersLayer({ name: "postgres", uid: 999, home: "/var/lib/postgresql" }, layers), busybox, postgres, pgEntry], {
            Entrypoint: ["/usr/local/bin/postgres-entrypoint"],
            Env: [`PATH=${PG_BIN}:/usr/local/bin:/usr/bin:/bin`, "PGDATA=/var/lib/postgresql/data"],
            User: "999:999",
        });
        add(WORKLOAD_TEST_IMAGES.nginx, [usersLayer({ name: "nginx", uid: 101, home: "/nonexistent" }, layers), busybox, nginx, filesLayer({ "/etc/nginx/nginx.conf": [NGINX_CONF, 0o644] }, layers)], {
            Entrypoint: ["/usr/sbin/nginx", "-e", "stderr"],
            Env: [PATH_ENV],
            User: "101:101",
        });
        writer.finish();
        writeArchive(path.join(work, "layout"), path.join(work, "images.tar"));
        fs.rmSync(layers, { recursive: true, force: true });
        fs.writeFileSync(path.join(work, "images.json"), `${JSON.stringify({ key, debs, binaries, images }, null, 2)}\n`);
        fs.rmSync(final, { recursive: true, force: true });
        fs.renameSync(work, final);
        for (const d of fs.readdirSync(cacheDir)) if (/^[0-9a-f]{16}$/.test(d) && d !== key) fs.rmSync(path.join(cacheDir, d), { recursive: true, force: true });
        const done = result(false, images);
        say(`done in ${Math.round(done.seconds)} s: ${images.length} images in ${done.tar} (${mib(fs.statSync(done.tar).size)})`);
        return done;
    } catch (e) {
        fs.rmSync(work, { recursive: true, force: true });
        throw e;
    }
}

function fail(message: string): never {
    throw new Error(message);
}

if (require.main === module) {
    ensureWorkloadImages({ log: (l) => process.stdout.write(`${l}\n`) }).then(
        (r) => process.stdout.write(`layout ${r.dir}\narchive ${r.tar}\n`),
        (e: Error) => {
            process.stderr.write(`${e.message}\n`);
            process.exit(1);
        },
    );
}
