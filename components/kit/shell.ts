/** Shell quoting every layer uses (below the layers, like the config kit). */

/** Single-quotes a word for bash. */
export function shq(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A bash script run as root over SSH: directly when the login user is root, otherwise through passwordless sudo. */
export function asRoot(script: string): string {
    const s = shq(script);
    return `if [ "$(id -u)" -eq 0 ]; then bash -c ${s}; else sudo -n bash -c ${s}; fi`;
}
