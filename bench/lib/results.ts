/** Results: a JSON file per scenario under bench/results/, and a table on the terminal. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '..', 'results');

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** Prints rows as an aligned table (and returns it as Markdown for BENCHMARKS.md). */
export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i]!)).join('  ');
  process.stdout.write([line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c] ?? ''))))].join('\n') + '\n');
  return [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${cols.map((c) => cell(r[c] ?? '')).join(' | ')} |`)].join('\n');
}

export function machine() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}

export function save(scenario: string, data: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${scenario}.json`);
  fs.writeFileSync(file, JSON.stringify({ scenario, date: new Date().toISOString(), machine: machine(), command: `node bench/run.mjs ${scenario} ${process.argv.slice(2).join(' ')}`.trim(), ...(data as object) }, null, 2) + '\n');
  return file;
}
