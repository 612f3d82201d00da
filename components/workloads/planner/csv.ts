/** One CSV record with the line it starts on (1-based, the header is line 1). */
export interface CsvRecord {
    line: number;
    cells: string[];
}

/**
 * RFC 4180 CSV: quoted fields may hold the delimiter, doubled quotes and line breaks. The
 * delimiter is "," unless the header line has more ";" (RVTools in some locales exports ";").
 * A quote left open at the end is reported, with the line where its record started.
 */
export function parseCsv(text: string): { header: string[]; records: CsvRecord[]; error?: { line: number; message: string } } {
    const src = text.replace(/^\uFEFF/, "");
    const firstLine = src.split(/\r?\n/, 1)[0] ?? "";
    const delim = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ";" : ",";
    const rows: CsvRecord[] = [];
    let cells: string[] = [];
    let cell = "";
    let quoted = false;
    let line = 1;
    let start = 1;
    let touched = false;
    for (let i = 0; i < src.length; i++) {
        const c = src[i];
        if (quoted) {
            if (c === '"' && src[i + 1] === '"') {
                cell += '"';
                i++;
            } else if (c === '"') quoted = false;
            else {
                if (c === "\n") line++;
                cell += c;
            }
            continue;
        }
        if (c === '"' && cell === "") {
            quoted = true;
            touched = true;
        } else if (c === delim) {
            cells.push(cell);
            cell = "";
            touched = true;
        } else if (c === "\n" || c === "\r") {
            if (c === "\r" && src[i + 1] === "\n") i++;
            if (touched || cell !== "") rows.push({ line: start, cells: [...cells, cell] });
            cells = [];
            cell = "";
            touched = false;
            line++;
            start = line;
        } else {
            cell += c;
            touched = true;
        }
    }
    if (quoted) return { header: rows[0]?.cells ?? [], records: rows.slice(1), error: { line: start, message: "a quoted field is never closed" } };
    if (touched || cell !== "") rows.push({ line: start, cells: [...cells, cell] });
    const [head, ...records] = rows;
    return { header: (head?.cells ?? []).map((h) => h.trim()), records };
}
