import { spawn } from 'node:child_process';

/**
 * Runs coturn's own test client (turnutils_uclient) against a TURN server: allocate, then send to
 * `peer`. Resolves as soon as its output shows what happened, and stops it.
 */
export function tryRelay(opts: { port: number; username: string; password: string; peer: string }): Promise<'relayed' | 'forbidden' | 'refused' | 'no verdict'> {
  const args = ['-p', String(opts.port), '-u', opts.username, '-w', opts.password, '-e', opts.peer, '-r', '5000', '-n', '1', '-m', '1', '-c', '127.0.0.1'];
  const child = spawn('turnutils_uclient', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve) => {
    const done = (verdict: 'relayed' | 'forbidden' | 'refused' | 'no verdict') => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(verdict);
    };
    const timer = setTimeout(() => done('no verdict'), 15_000);
    const read = (d: Buffer) => {
      out += d.toString();
      if (/Cannot complete Allocation|error 401/.test(out)) done('refused');
      else if (/Forbidden IP|error 403/.test(out)) done('forbidden');
      else if (/tot_send_msgs=[1-9]/.test(out)) done('relayed');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', () => setTimeout(() => done('no verdict'), 50));
  });
}
