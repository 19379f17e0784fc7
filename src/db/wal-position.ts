/**
 * WAL positions (LSNs) as fixed-width hex strings, so that Redis (Lua) and JavaScript compare them as plain
 * strings: "0/3000148" -> "0000000003000148".
 */
export type WalPosition = string;

export function walPosition(lsn: string): WalPosition {
  const [hi = "0", lo = "0"] = lsn.trim().split("/");
  return `${hi.toUpperCase().padStart(8, "0")}${lo.toUpperCase().padStart(8, "0")}`;
}

export function walPositionToBigInt(position: WalPosition): bigint {
  return BigInt(`0x${position}`);
}
