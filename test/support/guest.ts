/**
 * Real Debian 12 guests for tests: boot the base image with a cloud-init user-data under
 * test, reach it over SSH, stop it. A thin async wrapper over tools/guest/*.sh, which hold
 * the one implementation (image build, air-gapped mirror, qemu launch, SSH options).
 *
 * Guests are air-gapped: their only network peer is the mirror started with startMirror(),
 * seen from inside as MIRROR_GUEST_URL. Needs root (debootstrap, apt) on the first run.
 *
 * @example
 *   const mirror = await startMirror(["containerd", "runc"]);
 *   const guest = await bootGuest({ name: "engine-1", userData, mirrorPort: mirror.port });
 *   try {
 *     await guest.waitCloudInit();
 *     const r = await guest.ssh("systemctl is-active containerd");
 *   } finally {
 *     await guest.stop();
 *     await mirror.stop();
 *   }
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as net from "net";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "./net";

const TOOLS = path.resolve(__dirname, "../../tools/guest");

/** The URL at which a guest booted with `mirrorPort` reaches the host's mirror. */
export const MIRROR_GUEST_URL = "http://10.0.2.100/";
/** The only apt source an air-gapped guest can use (unsigned repository, hence trusted=yes). */
export const MIRROR_APT_LINE = `deb [trusted=yes] ${MIRROR_GUEST_URL} bookworm main`;

export interface BootGuestOptions {
  /** cloud-init user-data, passed to the guest unmodified (a `users:` list must keep `- default` for SSH). */
  userData: string;
  /** Host name of the guest and name of its state folder `.state/guest/vm-<name>`; a-z, 0-9, '-'. */
  name: string;
  /** Port of a mirror on 127.0.0.1 (see startMirror); the guest sees it at MIRROR_GUEST_URL. Defaults to none. */
  mirrorPort?: number;
  /** Guest memory. Defaults to 2048. */
  memoryMiB?: number;
  /** Guest CPUs. Defaults to 2. */
  cpus?: number;
  /** Host niceness of the guest's qemu (0–19): a higher one yields the shared cores to the others when all are busy. Defaults to 0. */
  nice?: number;
  /** Tap device of a private L2 segment (see l2Segment) for a second NIC, eth1. Defaults to none. */
  tap?: string;
  /** cloud-init network config (v2 YAML) for the seed; must keep eth0 on DHCP. Defaults to none (DHCP on eth0). */
  networkConfig?: string;
  /** Seconds to wait for SSH, and the default for waitCloudInit. Defaults to 900. */
  timeoutSec?: number;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GuestTimings {
  /** Seconds from qemu start until SSH answered. */
  sshUpSec?: number;
  /** Seconds from qemu start until `cloud-init status --wait` returned. */
  cloudInitDoneSec?: number;
}

export interface CloudInitResult {
  /** `done`, `error`, `degraded done`, … as printed by `cloud-init status`. */
  status: string;
  /** Seconds from qemu start until cloud-init finished. */
  seconds: number;
  /** Full output of `cloud-init status --long`. */
  output: string;
}

export interface Guest {
  readonly name: string;
  readonly pid: number;
  readonly accel: string;
  readonly sshPort: number;
  readonly sshUser: string;
  /** The harness's private key for sshUser (the guest's sshd answers it on every address). */
  readonly sshKey: string;
  readonly serialLog: string;
  readonly timings: GuestTimings;
  /** Runs a shell command line as the default user (use sudo for root). Never rejects on a non-zero exit. */
  ssh(command: string, opts?: { timeoutSec?: number; input?: string | Buffer }): Promise<SshResult>;
  /** Copies a local file to the guest (as the default user). */
  put(localPath: string, remotePath: string): Promise<void>;
  /** Waits for cloud-init to finish (`cloud-init status --wait --long`). */
  waitCloudInit(timeoutSec?: number): Promise<CloudInitResult>;
  /** Kills this guest's qemu (by its recorded PID) and removes its overlay. Idempotent. */
  stop(): Promise<void>;
}

export interface Mirror {
  port: number;
  pid: number;
  dir: string;
  packageCount: number;
  sizeMiB: number;
  /** Stops this mirror's HTTP server (by its recorded PID). Idempotent. */
  stop(): Promise<void>;
}

interface RunResult extends SshResult {
  timedOut: boolean;
}

function run(
  cmd: string,
  args: string[],
  opts: { timeoutSec?: number; input?: string | Buffer } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      opts.timeoutSec === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutSec * 1000);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        timedOut,
      });
    });
    child.stdin.on("error", () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? "");
  });
}

/** Runs a tools/guest script; rejects with its last error lines when it fails. */
async function tool(script: string, args: string[], timeoutSec?: number): Promise<Record<string, string>> {
  const r = await run(path.join(TOOLS, script), args, { timeoutSec });
  if (r.code !== 0) {
    const tail = r.stderr.trim().split("\n").slice(-8).join("\n");
    throw new Error(`tools/guest/${script} ${args.join(" ")} failed${r.timedOut ? " (timed out)" : ""}:\n${tail}`);
  }
  const vars: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

/** Processes to kill if the test process exits without stopping them (crash, process.exit). */
const live = new Map<number, string>();

function pidIs(pid: number, marker: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
  } catch {
    return false;
  }
}

/** Segments to take down if the test process is interrupted before its own cleanup ran (names for l2.sh down). */
const liveSegments = new Set<string>();

// Ctrl-C or a TERM: take the segments down (which stops what runs in them: a Pulumi engine, its
// plugins, forwards), then exit, which kills the guests below. Without this an interrupted guest
// run leaves its namespace, its qemu processes and the engine's plugins behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const name of liveSegments) spawnSync(path.join(TOOLS, "l2.sh"), ["down", name], { stdio: "ignore", timeout: 30_000 });
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

process.on("exit", () => {
  for (const [pid, marker] of live) {
    if (pidIs(pid, marker)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

/** Builds the base image if needed (minutes the first time, then a cache hit); returns its folder. */
export async function ensureBaseImage(): Promise<string> {
  const vars = await tool("image.sh", [], 3600);
  return vars.GUEST_IMAGE_DIR;
}

/**
 * Builds (or reuses) the mirror holding `packages` plus their closure, and serves it on a free
 * loopback port; `flat` adds flat repositories (name → folder with Packages) at MIRROR_GUEST_URL/name/.
 */
export async function startMirror(packages: string[], opts: { flat?: Record<string, string> } = {}): Promise<Mirror> {
  if (packages.length === 0) throw new Error("startMirror: give at least one Debian package name");
  const flat = Object.entries(opts.flat ?? {}).flatMap(([name, dir]) => ["--flat", `${name}=${dir}`]);
  const vars = await tool("mirror.sh", ["--serve", "auto", ...flat, ...packages], 3600);
  const port = Number(vars.MIRROR_PORT);
  const pid = Number(vars.MIRROR_PID);
  live.set(pid, "http.server");
  let stopped = false;
  return {
    port,
    pid,
    dir: vars.MIRROR_DIR,
    packageCount: Number(vars.MIRROR_PACKAGES),
    sizeMiB: Number(vars.MIRROR_MIB),
    async stop() {
      if (stopped) return;
      stopped = true;
      await tool("mirror.sh", ["--stop", String(port)]);
      live.delete(pid);
    },
  };
}

/** Boots a guest and waits until SSH answers; on any failure the guest is stopped before rejecting. */
export async function bootGuest(opts: BootGuestOptions): Promise<Guest> {
  const timeoutSec = opts.timeoutSec ?? 900;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gw-guest-"));
  const userDataFile = path.join(tmp, "user-data");
  fs.writeFileSync(userDataFile, opts.userData);
  const args = ["start", "--name", opts.name, "--user-data", userDataFile, "--owner-pid", String(process.pid)];
  args.push("--memory", String(opts.memoryMiB ?? 2048), "--cpus", String(opts.cpus ?? 2));
  if (opts.nice !== undefined) args.push("--nice", String(opts.nice));
  if (opts.mirrorPort !== undefined) args.push("--mirror-port", String(opts.mirrorPort));
  if (opts.tap !== undefined) args.push("--tap", opts.tap);
  if (opts.networkConfig !== undefined) {
    const file = path.join(tmp, "network-config");
    fs.writeFileSync(file, opts.networkConfig);
    args.push("--network-config", file);
  }
  let env: Record<string, string>;
  try {
    env = await tool("boot.sh", args, 3600);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const guest = new QemuGuest(env, timeoutSec);
  try {
    const up = await tool("boot.sh", ["wait-ssh", "--name", opts.name, "--timeout", String(timeoutSec)]);
    guest.timings.sshUpSec = Number(up.GUEST_SSH_UP_SEC);
  } catch (e) {
    await guest.stop();
    throw e;
  }
  return guest;
}

class QemuGuest implements Guest {
  readonly name: string;
  readonly pid: number;
  readonly accel: string;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly sshKey: string;
  readonly serialLog: string;
  readonly timings: GuestTimings = {};
  private readonly startedMs: number;
  private readonly overlay: string;
  private stopped = false;

  constructor(
    env: Record<string, string>,
    private readonly timeoutSec: number,
  ) {
    this.name = env.GUEST_NAME;
    this.pid = Number(env.GUEST_PID);
    this.accel = env.GUEST_ACCEL;
    this.sshPort = Number(env.GUEST_SSH_PORT);
    this.sshUser = env.GUEST_SSH_USER;
    this.sshKey = env.GUEST_SSH_KEY;
    this.serialLog = env.GUEST_SERIAL_LOG;
    this.startedMs = Number(env.GUEST_STARTED_MS);
    this.overlay = path.join(env.GUEST_RUN_DIR, "overlay.qcow2");
    live.set(this.pid, this.overlay);
  }

  async ssh(command: string, opts: { timeoutSec?: number; input?: string | Buffer } = {}): Promise<SshResult> {
    const timeoutSec = opts.timeoutSec ?? this.timeoutSec;
    const r = await run(path.join(TOOLS, "boot.sh"), ["ssh", "--name", this.name, "--", command], {
      timeoutSec,
      input: opts.input,
    });
    if (r.timedOut) throw new Error(`guest ${this.name}: ssh timed out after ${timeoutSec}s: ${command}`);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    const quoted = `'${remotePath.replace(/'/g, `'\\''`)}'`;
    const r = await this.ssh(`cat > ${quoted}`, { input: fs.readFileSync(localPath) });
    if (r.code !== 0) throw new Error(`guest ${this.name}: copy to ${remotePath} failed: ${r.stderr.trim()}`);
  }

  async waitCloudInit(timeoutSec?: number): Promise<CloudInitResult> {
    const r = await this.ssh("cloud-init status --wait --long", { timeoutSec: timeoutSec ?? this.timeoutSec });
    const m = /^status: (.+)$/m.exec(r.stdout);
    if (!m) {
      throw new Error(`guest ${this.name}: no status from cloud-init (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    }
    const seconds = Math.round((Date.now() - this.startedMs) / 100) / 10;
    this.timings.cloudInitDoneSec = seconds;
    return { status: m[1].trim(), seconds, output: r.stdout };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await tool("boot.sh", ["stop", "--name", this.name]);
    live.delete(this.pid);
  }
}

export interface L2Segment {
  /** Tap devices, one per guest (BootGuestOptions.tap). */
  taps: string[];
  /** Network namespace on the segment; run host-side probes in it with exec(). */
  namespace: string;
  /** The namespace's address on the segment. */
  probeAddress: string;
  /** Runs a command inside the namespace (never rejects on a non-zero exit). */
  exec(cmd: string, args: string[], opts?: { timeoutSec?: number; input?: string | Buffer }): Promise<SshResult>;
  /** A loopback port on the host that reaches address:port on the segment (socat through the namespace). */
  forward(address: string, port: number): Promise<number>;
  /** Stops the forwards and removes the taps, bridge and namespace. Idempotent. */
  down(): Promise<void>;
}

/**
 * A private L2 segment (tools/guest/l2.sh): a bridge with `taps` tap devices and a namespace at
 * `probe` (ADDRESS/PREFIX) from which the host reaches the guests' segment addresses. Needs root.
 */
export async function l2Segment(name: string, taps: number, probe: string): Promise<L2Segment> {
  await run(path.join(TOOLS, "l2.sh"), ["down", name]);
  const vars = await tool("l2.sh", ["up", name, "--taps", String(taps), "--probe", probe], 60);
  liveSegments.add(name);
  let gone = false;
  const forwards: ChildProcess[] = [];
  return {
    taps: vars.L2_TAPS.split(","),
    namespace: vars.L2_NAMESPACE,
    probeAddress: vars.L2_PROBE,
    exec: (cmd, args, opts = {}) => run("ip", ["netns", "exec", vars.L2_NAMESPACE, cmd, ...args], opts),
    async forward(address, port) {
      const local = await freePort();
      const child = spawn("socat", [`TCP-LISTEN:${local},bind=127.0.0.1,fork,reuseaddr`, `EXEC:ip netns exec ${vars.L2_NAMESPACE} socat STDIO TCP\\:${address}\\:${port}`], { stdio: "ignore" });
      forwards.push(child);
      if (child.pid !== undefined) live.set(child.pid, "socat");
      for (let i = 0; i < 50; i++) {
        if (await new Promise<boolean>((r) => net.connect(local, "127.0.0.1").on("connect", function (this: net.Socket) { this.destroy(); r(true); }).on("error", () => r(false)))) return local;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`socat forward 127.0.0.1:${local} → ${address}:${port} did not come up`);
    },
    async down() {
      if (gone) return;
      gone = true;
      for (const f of forwards) if (f.exitCode === null) f.kill("SIGTERM");
      await tool("l2.sh", ["down", name], 60);
      liveSegments.delete(name);
    },
  };
}

/**
 * Runs a command in the guest; its stdout (with `withStderr`, stdout then stderr). A non-zero exit
 * rejects with the command's start and the last lines of what it printed.
 */
export async function sshOk(guest: Guest, command: string, opts: { input?: string | Buffer; timeoutSec?: number; withStderr?: boolean } = {}): Promise<string> {
  const r = await guest.ssh(command, { input: opts.input, timeoutSec: opts.timeoutSec });
  if (r.code !== 0) throw new Error(`guest ${guest.name}: \`${command.slice(0, 160)}\` exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return opts.withStderr ? r.stdout + r.stderr : r.stdout;
}
