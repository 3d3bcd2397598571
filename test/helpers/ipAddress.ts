import net from 'node:net';

export interface IpBytes {
  family: 4 | 6;
  bytes: number[];
}

/** An IPv4 or IPv6 address as its bytes (IPv6 in any textual form, a dotted IPv4 tail included). */
export function ipBytes(text: string): IpBytes {
  const kind = net.isIP(text);
  if (kind === 4) return { family: 4, bytes: text.split('.').map(Number) };
  if (kind !== 6) throw new Error(`not an IP address: ${text}`);
  // A dotted IPv4 tail (::ffff:1.2.3.4) as its two hex groups.
  const hex = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`,
  );
  const groupsOf = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  let groups = groupsOf(hex);
  if (hex.includes('::')) {
    const [left, right] = hex.split('::') as [string, string];
    const l = groupsOf(left);
    const r = groupsOf(right);
    groups = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  }
  return { family: 6, bytes: groups.flatMap((g) => [g >> 8, g & 0xff]) };
}
