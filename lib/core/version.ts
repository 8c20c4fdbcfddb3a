/** The toolkit's version, printed by `--version` and shown in `/status`. */
export const VERSION = "0.1.0";
