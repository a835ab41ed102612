/**
 * Loopback tests for the modes that give up a guarantee (`AUTH_MODE=off`, `REPLAY_STORE=memory`). Both the
 * peer and the Host must be loopback: the peer proves the request comes from this machine, and a loopback
 * Host defeats DNS rebinding, where a page on another origin makes the browser send to 127.0.0.1 under a
 * name the attacker controls.
 */

const IPV4_LOOPBACK = /^127(\.\d{1,3}){3}$/;
/** `::ffff:127.0.0.1` as WHATWG URL writes it (`::ffff:7f00:1`): the high 16 bits of the mapped address are 0x7fXX. */
const MAPPED_HEX_LOOPBACK = /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/;
const MAPPED_PREFIX = "::ffff:";
const IPV6_LOOPBACK = new Set(["::1", "0:0:0:0:0:0:0:1"]);

/** A peer address (as a socket or CF-Connecting-IP reports it) on this machine, IPv4-mapped IPv6 included. */
export function isLoopbackAddress(address: string): boolean {
  const ip = address.toLowerCase().replace(/^\[|\]$/g, "");
  if (IPV4_LOOPBACK.test(ip) || IPV6_LOOPBACK.has(ip) || MAPPED_HEX_LOOPBACK.test(ip)) return true;
  return ip.startsWith(MAPPED_PREFIX) && IPV4_LOOPBACK.test(ip.slice(MAPPED_PREFIX.length));
}

/** A Host name that can only mean this machine: `localhost` or a loopback address. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname.toLowerCase() === "localhost" || isLoopbackAddress(hostname);
}
