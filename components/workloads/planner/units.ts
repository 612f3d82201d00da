// Parsing of the size, percentage, port and metadata cells of inventories. Every parser returns
// either a value or a message that quotes the cell and says what is allowed.

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(message: string): Parsed<T> => ({ ok: false, message });

// Binary multiples, in MiB. Inventories write "GB" for what vSphere, OpenStack and RVTools mean as
// GiB (their "MB" figures are MiB), so the decimal spellings are read as binary too; "G"/"M"/"T"
// as well. Anything else is refused rather than guessed.
const TO_MIB: Record<string, number> = { k: 1 / 1024, kb: 1 / 1024, kib: 1 / 1024, m: 1, mb: 1, mib: 1, g: 1024, gb: 1024, gib: 1024, t: 1024 * 1024, tb: 1024 * 1024, tib: 1024 * 1024 };
const UNITS_ALLOWED = "MiB, GiB or TiB (MB, GB, TB read as binary)";

/** A size cell in MiB; a bare number is in `bareUnit` ("MiB" for memory, "GiB" for disk). */
export function parseSizeMiB(column: string, text: string, bareUnit: "MiB" | "GiB"): Parsed<number> {
    const t = text.trim();
    const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(t.replace(/,(?=\d{3}\b)/g, ""));
    if (!m) return bad(`${column} "${text}": not a size; write a number with an optional unit ${UNITS_ALLOWED}, e.g. "8 GiB"`);
    const unit = (m[2] || bareUnit).toLowerCase();
    const factor = TO_MIB[unit];
    if (factor === undefined) return bad(`${column} "${text}": unknown unit "${m[2]}"; allowed: ${UNITS_ALLOWED}`);
    const mib = Number(m[1]) * factor;
    if (!(mib > 0)) return bad(`${column} "${text}": must be more than 0`);
    return ok(mib);
}

/** A whole positive count (vCPUs). */
export function parseCount(column: string, text: string): Parsed<number> {
    const t = text.trim();
    if (!/^\d+$/.test(t) || Number(t) < 1) return bad(`${column} "${text}": must be a whole number ≥ 1`);
    return ok(Number(t));
}

/** A utilisation percentage 0–100, with or without "%". */
export function parsePercent(column: string, text: string): Parsed<number> {
    const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
    if (!m || Number(m[1]) > 100) return bad(`${column} "${text}": must be a percentage 0–100, e.g. "35" or "35%"`);
    return ok(Number(m[1]));
}

/** Listening ports: `80;443`, `80 443`, `80|443`, `5432/tcp`. */
export function parsePorts(column: string, text: string): Parsed<number[]> {
    const ports: number[] = [];
    for (const part of text.split(/[;|\s,]+/).filter((p) => p !== "")) {
        const m = /^(\d{1,5})(?:\/(?:tcp|udp))?$/i.exec(part);
        if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return bad(`${column} "${text}": "${part}" is not a port 1–65535; separate ports with ";"`);
        ports.push(Number(m[1]));
    }
    return ok([...new Set(ports)].sort((a, b) => a - b));
}

/** Metadata `key=value;key=value` (values may be empty; keys may not). */
export function parseMetadata(column: string, text: string): Parsed<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const part of text.split(";").map((p) => p.trim()).filter((p) => p !== "")) {
        const eq = part.indexOf("=");
        if (eq <= 0) return bad(`${column} "${text}": "${part}" is not key=value; separate pairs with ";"`);
        out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
    return ok(out);
}

/** Power state cells: poweredOn/on/running/true/active → true; poweredOff/off/false/shutoff/suspended → false. */
export function parsePower(column: string, text: string): Parsed<boolean> {
    const t = text.trim().toLowerCase();
    if (["poweredon", "on", "running", "true", "yes", "active", "1"].includes(t)) return ok(true);
    if (["poweredoff", "off", "false", "no", "shutoff", "stopped", "suspended", "paused", "0"].includes(t)) return ok(false);
    return bad(`${column} "${text}": must be on or off (poweredOn, poweredOff, running, stopped, …)`);
}
