import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// HTTPS and WSS with the documented self-signed certificate (scripts/self-signed-cert.sh).
let port: number;
let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-tls-'));
  execFileSync('bash', [path.join(repoRoot, 'scripts/self-signed-cert.sh'), '127.0.0.1', dir]);
  server = await startTestServer({ SFU_TLS_CERT: path.join(dir, 'cert.pem'), SFU_TLS_KEY: path.join(dir, 'key.pem') });
  port = server.ports.http;
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS / WSS', () => {
  it('serves /healthz over HTTPS with the configured certificate', async () => {
    const ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get(`https://127.0.0.1:${port}/healthz`, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
    expect(server.url).toBe(`https://127.0.0.1:${port}`);
  });

  it('tells browsers to keep to HTTPS (HSTS)', async () => {
    const ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    const hsts = await new Promise<string | undefined>((resolve, reject) => {
      https.get(`https://127.0.0.1:${port}/`, { ca }, (res) => {
        res.resume();
        resolve(res.headers['strict-transport-security']);
      }).on('error', reject);
    });
    expect(hsts).toMatch(/^max-age=\d{7,}/);
  });

  it('accepts a signaling WebSocket over WSS and answers a join', async () => {
    const token = await server.tokens.sign({ room: 'tls', sub: 'u', name: 'u', role: 'student' }, 600);
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws?token=${token}`, { ca: fs.readFileSync(path.join(dir, 'cert.pem')) });
    const reply = await new Promise<{ ok: boolean; data: { peerId: string } }>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'join', data: {} })));
      ws.on('message', (m) => resolve(JSON.parse(m.toString())));
      ws.once('error', reject);
    });
    expect(reply.ok).toBe(true);
    expect(reply.data.peerId).toBeTruthy();
    ws.close();
  });

  it('refuses plain HTTP on the TLS port', async () => {
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
