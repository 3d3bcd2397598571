/**
 * Line charts as PNG, drawn as SVG and rendered by the same Debian Chromium the tests use (no
 * plotting dependency). One chart per call; x and y are plain numbers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];
const W = 720;
const H = 420;
const M = { l: 80, r: 20, t: 40, b: 60 };

const nice = (max: number) => {
  const p = 10 ** Math.floor(Math.log10(max || 1));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max) ?? max;
};

export function svg(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = nice(Math.max(...xs));
  const yMax = nice(Math.max(...ys));
  const x = (v: number) => M.l + (v / xMax) * (W - M.l - M.r);
  const y = (v: number) => H - M.b - (v / yMax) * (H - M.t - M.b);
  const ticks = (max: number) => Array.from({ length: 6 }, (_, i) => (max * i) / 5);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(c.title)}</text>`,
    ...ticks(xMax).map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/><text x="${x(v)}" y="${H - M.b + 16}" text-anchor="middle">${+v.toPrecision(3)}</text>`),
    ...ticks(yMax).map((v) => `<line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${M.l - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`),
    `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#333"/>`,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 18}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(18 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  ];
  c.series.forEach((s, i) => {
    const color = colors[i % colors.length]!;
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.points.map((p) => `${x(p[0])},${y(p[1])}`).join(' ')}"/>`);
    for (const p of s.points) parts.push(`<circle cx="${x(p[0])}" cy="${y(p[1])}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${M.l + 10}" y="${M.t + 6 + i * 18}" width="12" height="12" fill="${color}"/><text x="${M.l + 28}" y="${M.t + 16 + i * 18}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders charts to PNG files (one browser for all). */
export async function renderPngs(charts: { chart: Chart; file: string }[]): Promise<void> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: W, height: H } });
    for (const { chart, file } of charts) {
      await page.setContent(`<body style="margin:0">${svg(chart)}</body>`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await page.screenshot({ path: file, clip: { x: 0, y: 0, width: W, height: H } });
    }
  } finally {
    await browser.close();
  }
}
