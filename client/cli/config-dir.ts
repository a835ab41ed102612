import { homedir } from "node:os";
import { join } from "node:path";

/** The CLI's own files (keys by default, upload resume state): `$XDG_CONFIG_HOME/verigate`, or `~/.config/verigate`. */
export function configDirectory(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "verigate");
}
