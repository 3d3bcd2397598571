/** ws://h:p/ws → http://h:p: the same node's HTTP base URL. */
export function httpUrlOf(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = u.pathname.replace(/\/ws\/?$/, '') || '/';
  u.search = '';
  return u.toString().replace(/\/$/, '');
}
