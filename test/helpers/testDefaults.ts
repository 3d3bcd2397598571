/**
 * Settings every test server starts with, in-process or spawned, unless the test sets its own:
 * - students' microphones do not start muted (most tests are about media flowing; the tests of the
 *   class policy set SFU_STUDENTS_JOIN_MUTED=true, the product's default);
 * - no join is refused at high worker CPU (a busy CI machine is not a full server; capacity.test.ts
 *   sets its own);
 * - the demo page joins by itself from ?autojoin=1 links, as the browser tests open it;
 * - every /metrics scrape collects afresh (tests read counters right after the events; the
 *   monitoring test sets a cache of its own).
 */
export const testDefaults: Record<string, string> = {
  SFU_STUDENTS_JOIN_MUTED: 'false',
  SFU_WORKER_MAX_CPU: '1',
  SFU_DEMO_AUTOJOIN: 'true',
  SFU_METRICS_CACHE_MS: '0',
};
