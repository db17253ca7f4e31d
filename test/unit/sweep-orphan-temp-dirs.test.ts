import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { processStartTimeSync } from '../../src/util/process-identity.ts';
import { processTempDir } from '../../src/util/process-temp-dir.ts';
import { sweepOrphanTempDirs } from '../../src/util/sweep-orphan-temp-dirs.ts';

test('the sweep removes the temp dirs of dead pathwatch processes only, a reused pid included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-sweep-'));
  try {
    const deadPid = spawnSync('true').pid; // exited before spawnSync returned
    const pid1Start = processStartTimeSync(1);
    const names = {
      dead: `pathwatch-${deadPid}.4242-AbC123`,
      deadOldForm: `pathwatch-${deadPid}-AbC124`,
      deadLegacyTraces: `pathwatch-traces-${deadPid}-XyZ789`,
      // This process's pid from an earlier life (in a container pathwatch is pid 1 each time).
      ownPidEarlierLife: `pathwatch-${process.pid}.1-Reu000`,
      ownPidOldForm: `pathwatch-${process.pid}-Old000`,
      own: basename(processTempDir()),
      livePid1: `pathwatch-1.${pid1Start}-Init00`,
      livePid1OldForm: 'pathwatch-1-Init01',
      notOurs: 'pathwatch-project-Q1w2e3',
      shortSuffix: `pathwatch-${deadPid}-x`,
    };
    for (const name of Object.values(names)) {
      mkdirSync(join(dir, name, 'playwright_chromiumdev_profile-abc'), { recursive: true });
      writeFileSync(join(dir, name, 'raw.network'), 'Cookie: session=secret\n');
    }
    const removed = await sweepOrphanTempDirs(dir);
    assert.deepEqual(
      removed.sort(),
      [names.dead, names.deadOldForm, names.deadLegacyTraces, names.ownPidEarlierLife].sort(),
    );
    assert.deepEqual(
      readdirSync(dir).sort(),
      [
        names.own,
        names.ownPidOldForm,
        names.livePid1,
        names.livePid1OldForm,
        names.notOurs,
        names.shortSuffix,
      ].sort(),
    );
    assert.deepEqual(await sweepOrphanTempDirs(join(dir, 'missing')), [], 'a missing dir is no error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
