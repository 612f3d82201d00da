import * as fs from "fs";
import * as path from "path";
import { UsageError } from "./args";

/** The file render leaves in --out: which files it wrote, so the next render removes exactly them. */
export const RENDER_MARKER = ".groundwork-render";
const MARKER_HEAD = "# groundwork render: the files of the render in this folder; the next render here removes them first";

/** Every non-folder entry under dir, as sorted relative paths with `/` separators. */
function filesUnder(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p).split(path.sep).join("/"));
        }
    };
    walk(dir);
    return out.sort();
}

/** The marker's text for a render that wrote `files` (relative paths). Deterministic. */
export function renderMarker(files: string[]): string {
    return [MARKER_HEAD, ...[...files].sort()].join("\n") + "\n";
}

/**
 * Makes `dir` ready for a render so that two renders never mix: a missing or empty folder is
 * used as is; a folder holding exactly a previous render (its marker and the files it lists) is
 * emptied of those files; anything else — a non-empty folder without the marker, or a render
 * plus files render did not write — is refused, and nothing is removed.
 */
export function prepareOut(dir: string): void {
    if (!fs.existsSync(dir)) return;
    if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out: "${dir}" exists and is not a folder`);
    const present = filesUnder(dir);
    if (present.length === 0) return;
    if (!present.includes(RENDER_MARKER)) {
        throw new UsageError(`--out: "${dir}" is not empty and was not made by groundwork render (no ${RENDER_MARKER}); give a new or empty folder`);
    }
    const listed = new Set(fs.readFileSync(path.join(dir, RENDER_MARKER), "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#")));
    const foreign = present.filter((f) => f !== RENDER_MARKER && !listed.has(f));
    if (foreign.length > 0) {
        const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? `, … (${foreign.length} in all)` : "");
        throw new UsageError(`--out: "${dir}" holds a previous render and files it did not write (${shown}); move them away or give another folder`);
    }
    // Only files found under dir are removed, whatever the marker says.
    const folders = new Set<string>();
    for (const f of present) {
        fs.rmSync(path.join(dir, f));
        for (let d = path.dirname(f); d !== "."; d = path.dirname(d)) folders.add(d);
    }
    for (const d of [...folders].sort((a, b) => b.length - a.length)) {
        const p = path.join(dir, d);
        if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
    }
}
