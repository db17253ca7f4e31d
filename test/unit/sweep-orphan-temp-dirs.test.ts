import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepOrphanTempDirs } from '../../src/util/sweep-orphan-temp-dirs.ts';

test('the sweep removes the temp dirs of dead pathwatch processes only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-sweep-'));
  try {
    const deadPid = spawnSync('true').pid; // exited before spawnSync returned
    const names = {
      dead: `pathwatch-${deadPid}-AbC123`,
      deadLegacyTraces: `pathwatch-traces-${deadPid}-XyZ789`,
      own: `pathwatch-${process.pid}-Own000`,
      livePid1: 'pathwatch-1-Init00',
      notOurs: 'pathwatch-project-Q1w2e3',
      shortSuffix: `pathwatch-${deadPid}-x`,
    };
    for (const name of Object.values(names)) {
      mkdirSync(join(dir, name, 'playwright_chromiumdev_profile-abc'), { recursive: true });
      writeFileSync(join(dir, name, 'raw.network'), 'Cookie: session=secret\n');
    }
    const removed = await sweepOrphanTempDirs(dir);
    assert.deepEqual(removed.sort(), [names.dead, names.deadLegacyTraces].sort());
    assert.deepEqual(
      readdirSync(dir).sort(),
      [names.own, names.livePid1, names.notOurs, names.shortSuffix].sort(),
    );
    assert.deepEqual(await sweepOrphanTempDirs(join(dir, 'missing')), [], 'a missing dir is no error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
