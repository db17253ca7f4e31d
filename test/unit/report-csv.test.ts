import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Report } from '../../src/reports/compute-report.ts';
import { csvField, REPORT_CSV_COLUMNS, reportCsv } from '../../src/reports/report-csv.ts';
import { reportWindow } from '../../src/reports/report-window.ts';
import { countsQuantile } from '../../src/reports/series-counts.ts';

test('csvField quotes a field with a comma, a quote or a line break, doubling its quotes (RFC 4180)', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(99.95), '99.95');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
});

test('reportCsv: a header, a row per location and a total per check, CRLF line ends', () => {
  const row = (location: string | undefined, runs: number) => ({
    ...(location ? { location } : {}),
    runs,
    failures: 1,
    degraded: 0,
    excludedRuns: 0,
    availability: 95,
    p50: 25,
    p95: 250,
    p99: 250,
    errorBudget: { allowedPercent: 0.1, leftPercent: -4900 },
  });
  const report: Report = {
    period: 'week',
    from: 0,
    to: 7 * 86_400_000,
    target: 99.9,
    latencyBucketsMs: [5],
    checks: [
      {
        id: 'shop',
        name: 'Shop "front", EU',
        kind: 'http',
        locations: [row('inside', 20), row('outside', 20)],
        total: row(undefined, 40),
      },
      {
        id: 'idle',
        name: 'Idle',
        kind: 'tcp',
        locations: [
          {
            location: 'inside',
            runs: 0,
            failures: 0,
            degraded: 0,
            excludedRuns: 0,
            errorBudget: { allowedPercent: 0.1, leftPercent: 100 },
          },
        ],
        total: {
          runs: 0,
          failures: 0,
          degraded: 0,
          excludedRuns: 0,
          errorBudget: { allowedPercent: 0.1, leftPercent: 100 },
        },
      },
    ],
  };
  const lines = reportCsv(report).split('\r\n');
  assert.equal(lines.pop(), '', 'the last record ends with CRLF too');
  assert.equal(lines[0], REPORT_CSV_COLUMNS.join(','));
  assert.deepEqual(lines.slice(1), [
    'shop,"Shop ""front"", EU",http,inside,20,1,0,0,95,99.9,0.1,-4900,25,250,250',
    'shop,"Shop ""front"", EU",http,outside,20,1,0,0,95,99.9,0.1,-4900,25,250,250',
    'shop,"Shop ""front"", EU",http,all,40,1,0,0,95,99.9,0.1,-4900,25,250,250',
    // No runs: no availability nor percentiles, the budget untouched.
    'idle,Idle,tcp,inside,0,0,0,0,,99.9,0.1,100,,,',
    'idle,Idle,tcp,all,0,0,0,0,,99.9,0.1,100,,,',
  ]);
});

test('countsQuantile: the bound of the bucket holding the rank, fractions and the open bucket included', () => {
  // 5, 10, 25, 50 ms buckets with 1, 1, 1, 1: the median is the 2nd sample (10 ms).
  const buckets = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.equal(countsQuantile(buckets, 0.5), 10);
  assert.equal(countsQuantile(buckets, 0.51), 25);
  assert.equal(countsQuantile(buckets, 0.99), 50);
  // Half-counted hours: 2.5 in each of the first two buckets, rank 2.5 is the first.
  assert.equal(countsQuantile([2.5, 2.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.5), 5);
  // Over a minute: the open bucket reads as its lower bound, 60000 ms.
  assert.equal(countsQuantile([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], 0.5), 60_000);
  assert.equal(countsQuantile(new Array(14).fill(0), 0.5), undefined);
});

test('reportWindow: whole hours; an end mid-hour takes that hour in, one on the hour does not', () => {
  const midnight = Date.parse('2026-12-01T00:00:00Z');
  assert.deepEqual(reportWindow('month', midnight), {
    period: 'month',
    from: Date.parse('2026-11-01T00:00:00Z'),
    to: midnight,
  });
  assert.deepEqual(reportWindow('day', Date.parse('2026-12-07T14:20:00Z')), {
    period: 'day',
    from: Date.parse('2026-12-06T15:00:00Z'),
    to: Date.parse('2026-12-07T15:00:00Z'),
  });
  assert.equal(reportWindow('week', midnight).from, Date.parse('2026-11-24T00:00:00Z'));
});
