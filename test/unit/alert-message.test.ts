import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import type { AlertContext } from '../../src/alerts/alert-context.ts';
import { ALERT_EVENT_KINDS, type AlertEvent, type AlertEventKind } from '../../src/alerts/alert-event.ts';
import { ALERT_MESSAGES } from '../../src/alerts/alert-mail-messages.ts';
import { humanDuration, renderAlertMail } from '../../src/alerts/alert-message.ts';
import { alertRetryDelay, DEFAULT_ALERT_RETRY } from '../../src/alerts/alert-queue.ts';
import { alertSubject } from '../../src/alerts/alert-subject.ts';
import { mailHeader } from '../helpers/mail-headers.ts';

// Every kind an alert mail is rendered for: all but the monthly report (report-mail.ts).
const KINDS: AlertEventKind[] = ALERT_EVENT_KINDS.filter((kind) => kind !== 'report');

const AT = Date.UTC(2026, 11, 7, 3, 12, 0);
/** A tiny real PNG (1×1), as a screenshot would be stored. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

function eventOf(
  kind: AlertEventKind,
  language: 'en' | 'ja',
  overrides: Partial<AlertEvent> = {},
): AlertEvent {
  return {
    key: `i1.${kind}.default.email`,
    kind,
    list: 'default',
    channel: 'email',
    language,
    incidentId: 'i1',
    checkId: 'checkout',
    checkName: 'Checkout',
    itemKind: 'journey',
    tags: ['shop'],
    locations: kind.startsWith('degraded') ? ['outside'] : ['outside', 'outside-2'],
    location: kind.startsWith('location-') ? 'outside' : undefined,
    firstError: 'timeout after 15 s',
    verdict: 'outside-path',
    at: AT,
    start: AT - 192_000,
    downForMs: kind === 'up' ? 192_000 : undefined,
    reminder: kind === 'reminder' ? 2 : undefined,
    maintenance: kind.startsWith('maintenance-')
      ? {
          name: 'Router swap',
          reason: 'core router replaced',
          start: AT,
          end: AT + 3_600_000,
          scope: 'locations: outside',
          ...(kind === 'maintenance-end' ? { stillDown: ['Checkout (checkout)'] } : {}),
        }
      : undefined,
    digest:
      kind === 'digest'
        ? [
            {
              key: 'a',
              kind: 'down',
              checkId: 'a',
              checkName: 'API',
              locations: ['inside'],
              at: AT,
              firstError: 'refused',
            },
            {
              key: 'b',
              kind: 'down',
              checkId: 'b',
              locations: ['outside'],
              verdict: 'outside-path',
              at: AT + 1000,
            },
          ]
        : undefined,
    ...overrides,
  };
}

function richContext(overrides: Partial<AlertContext> = {}): AlertContext {
  return {
    verdict: {
      name: 'outside-path',
      summary: 'failing only from outside (outside, outside-2) while inside passes',
    },
    locations: [
      {
        id: 'inside',
        side: 'inside',
        description: 'Frankfurt rack 4',
        state: 'UP',
        since: AT - 86_400_000,
        probeHostFault: false,
      },
      {
        id: 'outside',
        side: 'outside',
        description: 'a cloud in Tokyo',
        state: 'DOWN',
        since: AT - 192_000,
        lastError: 'timeout after 15 s',
        probeHostFault: false,
      },
      { id: 'outside-2', side: 'outside', state: 'NO WORKER', probeHostFault: false },
    ],
    run: {
      runId: 'run-42',
      location: 'outside',
      startedAt: AT - 20_000,
      step: 'pay',
      error: {
        code: 'TIMEOUT',
        class: 'timeout',
        message: 'journey "checkout" step 2 "pay": timeout of 15000 ms exceeded',
      },
      whatToDo: 'the named phase ran out of time',
    },
    timings: [
      { phase: 'step:open', ms: 412, medianMs: 380 },
      { phase: 'step:pay', ms: 15_002, medianMs: 640 },
      { phase: 'total', ms: 15_600, medianMs: 1100 },
    ],
    screenshot: { filename: 'failure.png', contentType: 'image/png', content: PNG },
    diagnosis: 'SYN sent to 10.0.0.5:443, no SYN-ACK: dropped on the way',
    links: {
      runPage: 'http://127.0.0.1:8080/runs/run-42?lang=en&exp=1&sig=abc',
      traceViewer: 'http://127.0.0.1:8080/trace/?trace=http%3A%2F%2F127.0.0.1',
      trace: 'http://127.0.0.1:8080/api/v1/runs/run-42/artifacts/trace.zip?exp=1&sig=abc',
      capture: 'http://127.0.0.1:8080/api/v1/runs/run-42/artifacts/capture-1.pcap?exp=1&sig=abc',
      bundle: 'http://127.0.0.1:8080/api/v1/runs/run-42/bundle?exp=1&sig=abc',
      expiresAt: AT + 86_400_000,
    },
    ...overrides,
  };
}

/** English phrases of the mail tables (the text between placeholders) that Japanese must not show. */
function englishPhrases(): string[] {
  const phrases = new Set<string>();
  for (const [key, english] of Object.entries(ALERT_MESSAGES.en)) {
    if (ALERT_MESSAGES.ja[key as keyof typeof ALERT_MESSAGES.en] === english) continue;
    for (const part of english.split(/\{\w+\}/)) {
      const phrase = part.replace(/^[\s"(:—.,]+|[\s"):—.,]+$/g, '');
      if (/[a-z]{3}/i.test(phrase) && phrase.length >= 5) phrases.add(phrase);
    }
  }
  return [...phrases];
}

test('every kind renders in English and Japanese: its subject, no placeholder left, nothing undefined', () => {
  for (const language of ['en', 'ja'] as const) {
    for (const kind of KINDS) {
      const event = eventOf(kind, language);
      const context = richContext();
      const mail = renderAlertMail(event, context);
      assert.equal(mail.subject, alertSubject(event, context), `${language} ${kind}: subject`);
      for (const [part, body] of [
        ['text', mail.text],
        ['html', mail.html],
      ]) {
        assert.doesNotMatch(body, /\{\w+\}|undefined|NaN|\[object/, `${language} ${kind} ${part}: ${body}`);
      }
      assert.match(mail.html, new RegExp(`<html lang="${language}">`));
      assert.ok(mail.html.includes('<meta charset="utf-8">'));
      assert.doesNotMatch(
        mail.html,
        /<script|<style|<link|src="https?:/i,
        'no script, stylesheet or remote resource',
      );
    }
  }
});

test('a Japanese mail translates every UI string (names, codes and messages stay as they are)', () => {
  const phrases = englishPhrases();
  assert.ok(phrases.length > 50, `found ${phrases.length} phrases`);
  for (const kind of KINDS) {
    const mail = renderAlertMail(eventOf(kind, 'ja'), richContext());
    for (const body of [mail.text, mail.html]) {
      // Whole words only ("Check" is not in "Checkout"); location ids are names, not UI strings.
      const left = phrases.filter(
        (phrase) =>
          !['inside', 'outside'].includes(phrase) &&
          !/^[A-Z ]+$/.test(phrase) && // states (DOWN, DEGRADED) are codes, as in the subject
          new RegExp(`(^|[^A-Za-z])${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z])`).test(body),
      );
      assert.deepEqual(left, [], `${kind}: English left in the Japanese mail`);
    }
    assert.match(mail.text, /[぀-ヿ一-鿿]/, `${kind}: Japanese text`);
  }
  const down = renderAlertMail(eventOf('down', 'ja'), richContext());
  for (const expected of [
    '全ロケーションの状態',
    '失敗の内容',
    '対処方法',
    '所要時間（通常との比較）',
    '証跡',
    'TIMEOUT',
    'Checkout',
  ]) {
    assert.ok(down.html.includes(expected), expected);
  }
});

test('the down mail carries the failing step, the error with what to do, every location, timings, screenshot, diagnosis and links', () => {
  const event = eventOf('down', 'en');
  const mail = renderAlertMail(event, richContext());
  assert.equal(
    mail.subject,
    '[pathwatch] DOWN Checkout — outside only (path) — step "pay": journey "checkout" step 2 "pay": timeout of 15000 ms exceeded',
  );
  for (const body of [mail.text, mail.html]) {
    for (const fact of [
      'Checkout is DOWN',
      'Failing only from outside (outside) while inside passes',
      'pay',
      'TIMEOUT / timeout',
      'the named phase ran out of time',
      'Frankfurt rack 4',
      'a cloud in Tokyo',
      'NO WORKER',
      'Step &quot;pay&quot;',
      '15002 ms',
      '640 ms',
      'SYN sent to 10.0.0.5:443, no SYN-ACK: dropped on the way',
      'http://127.0.0.1:8080/api/v1/runs/run-42/bundle?exp=1&amp;sig=abc',
      '2026-12-07T03:12:00Z',
    ]) {
      const inBody = body === mail.html ? fact : fact.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
      assert.ok(body.includes(inBody), `${body === mail.html ? 'html' : 'text'} has ${inBody}`);
    }
  }
  assert.equal(mail.attachments.length, 1);
  const [screenshot] = mail.attachments;
  assert.deepEqual(
    { filename: screenshot.filename, contentType: screenshot.contentType, content: screenshot.content },
    { filename: 'failure.png', contentType: 'image/png', content: PNG },
  );
  assert.ok(
    mail.html.includes(`<img src="cid:${screenshot.cid}"`),
    'the HTML shows the attachment by its Content-ID',
  );
  // Table rows: one per location, in both bodies.
  const rowsOf = (name: string) =>
    (new RegExp(`<table data-pw="${name}"[^>]*>(.*?)</table>`).exec(mail.html)?.[1].match(/<tr>/g) ?? [])
      .length;
  assert.equal(rowsOf('locations'), 1 + 3, 'a header and one row per location');
  assert.equal(rowsOf('timings'), 1 + 3, 'a header and one row per phase or step');
  assert.match(
    mail.text,
    /^- outside — a cloud in Tokyo \| Side: outside \| State: DOWN \| Since: .* \| Last error: timeout after 15 s$/m,
  );
  assert.match(
    mail.text,
    /^Run page:\n {2}http:\/\/127\.0\.0\.1:8080\/runs\/run-42\?lang=en&exp=1&sig=abc$/m,
  );
});

test('the up mail says how long it was down, in either language, and shows no error or screenshot', () => {
  const en = renderAlertMail(eventOf('up', 'en'), richContext());
  assert.match(en.text, /^Checkout is UP again after 3 min 12 s$/m);
  assert.match(en.text, /^Down for: 3 min 12 s$/m);
  assert.equal(en.attachments.length, 0);
  assert.doesNotMatch(en.html, /cid:/);
  assert.doesNotMatch(en.text, /What failed/);
  const ja = renderAlertMail(eventOf('up', 'ja'), richContext());
  assert.match(ja.text, /停止時間: 3 分 12 秒/);
  assert.equal(humanDuration(3 * 3_600_000 + 5_000), '3 h 5 s');
  assert.equal(humanDuration(2 * 86_400_000 + 60_000, 'ja'), '2 日 1 分');
});

test('missing evidence is left out, never invented', () => {
  const mail = renderAlertMail(eventOf('down', 'en'), { locations: [], timings: [], links: {} });
  assert.equal(mail.attachments.length, 0);
  assert.match(mail.text, /^First error: timeout after 15 s$/m);
  for (const absent of [
    'Every location',
    'Timings',
    'Screenshot',
    'Evidence',
    'diagnosis',
    'cid:',
    'href=',
  ]) {
    assert.ok(!mail.text.includes(absent) && !mail.html.includes(absent), absent);
  }
  // A link that is not a web address is not shown.
  const odd = renderAlertMail(
    eventOf('down', 'en'),
    richContext({ links: { runPage: 'javascript:alert(1)' } }),
  );
  assert.doesNotMatch(odd.html, /javascript:/);
});

test('maintenance-end lists what is still down; a digest lists every alert it folded', () => {
  const end = renderAlertMail(eventOf('maintenance-end', 'en'), { locations: [], timings: [], links: {} });
  assert.match(end.text, /== Still DOWN as it ends ==\nCheckout \(checkout\)/);
  assert.match(end.text, /^Window: 2026-12-07T03:12:00Z – 2026-12-07T04:12:00Z$/m);
  const digest = renderAlertMail(eventOf('digest', 'en'), { locations: [], timings: [], links: {} });
  assert.match(
    digest.text,
    /^- 2026-12-07T03:12:00Z \| What: DOWN \| Item: API \(a\) \| Locations: inside \| Verdict \/ error: refused$/m,
  );
  assert.match(
    digest.text,
    /^- 2026-12-07T03:12:01Z \| What: DOWN \| Item: b \| Locations: outside \| Verdict \/ error: outside only \(path\)$/m,
  );
});

test('hostile check names, errors and descriptions are escaped in the HTML and kept as text in the text part', () => {
  const hostile = '<script>alert("x")</script>';
  const image = '<img src=x onerror=alert(1)>';
  for (const kind of KINDS) {
    const event = eventOf(kind, 'en', {
      checkName: `Shop ${hostile}`,
      firstError: `bad ${image}`,
      location: kind.startsWith('location-') ? `lab${hostile}` : undefined,
      maintenance: { name: `win ${hostile}`, start: AT, end: AT + 1000, scope: image, stillDown: [hostile] },
      digest: [
        {
          key: 'k',
          kind: 'down',
          checkId: 'x',
          checkName: hostile,
          locations: [image],
          at: AT,
          firstError: image,
        },
      ],
    });
    const context = richContext({
      locations: [
        {
          id: 'outside',
          side: 'outside',
          description: image,
          state: 'DOWN',
          lastError: hostile,
          probeHostFault: false,
        },
      ],
      run: { runId: 'r"1', location: 'outside', startedAt: AT, step: hostile, error: { message: image } },
      diagnosis: hostile,
      links: { runPage: `http://127.0.0.1/runs/x?a="><script>alert(1)</script>` },
    });
    const mail = renderAlertMail(event, context);
    assert.doesNotMatch(mail.html, /<script|<img src=x|onerror=alert\(1\)>|"><script/i, kind);
    assert.ok(
      mail.html.includes('&lt;script&gt;') || mail.html.includes('&lt;img src=x'),
      `${kind}: shown escaped`,
    );
    assert.ok(
      mail.text.includes('<script>alert("x")</script>') || mail.text.includes(image),
      `${kind}: text as is`,
    );
  }
});

test('a Japanese mail goes through nodemailer intact: subject, UTF-8 bodies and the inline screenshot by Content-ID', async () => {
  const event = eventOf('down', 'ja', { checkName: '決済 — 支払い' });
  const context = richContext({
    run: {
      ...richContext().run!,
      step: '支払い',
      error: { code: 'TIMEOUT', class: 'timeout', message: 'ステップ「支払い」がタイムアウト' },
    },
  });
  const mail = renderAlertMail(event, context);
  assert.match(
    mail.subject,
    /^\[pathwatch\] DOWN 決済 — 支払い — 外部のみ \(経路\) — step "支払い": ステップ「支払い」がタイムアウト$/,
  );
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await transport.sendMail({
    from: 'pathwatch@example.test',
    to: 'oncall@example.test',
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    textEncoding: 'base64',
    attachments: mail.attachments.map((attachment) => ({
      ...attachment,
      contentDisposition: 'inline' as const,
    })),
  });
  const raw = (info.message as Buffer).toString('utf8');
  assert.doesNotMatch(raw.split('\r\n\r\n')[0], /[^ -~\t\r\n]/, 'headers are 7-bit (RFC 2047 encoded words)');
  assert.equal(mailHeader(raw, 'Subject'), mail.subject);
  const parts = mimeParts(raw);
  const text = parts.find((part) => /^text\/plain; charset=utf-8/i.test(part.headers['content-type'] ?? ''));
  const html = parts.find((part) => /^text\/html; charset=utf-8/i.test(part.headers['content-type'] ?? ''));
  const image = parts.find((part) => /^image\/png/i.test(part.headers['content-type'] ?? ''));
  assert.equal(text?.body.toString('utf8'), mail.text);
  assert.equal(html?.body.toString('utf8'), mail.html);
  assert.ok(html?.body.toString('utf8').includes('全ロケーションの状態'));
  assert.equal(image?.headers['content-id'], `<${mail.attachments[0].cid}>`);
  assert.deepEqual(image?.body, PNG);
});

/** The leaf parts of a raw MIME message, bodies decoded (base64 or 7bit), headers by lower-case name. */
function mimeParts(raw: string): Array<{ headers: Record<string, string>; body: Buffer }> {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = parseHeaders(head);
  const body = rest.join('\r\n\r\n');
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1, -1)
      .flatMap((part) => mimeParts(part.replace(/^\r\n/, '')));
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  return [
    {
      headers,
      body:
        encoding === 'base64'
          ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
          : Buffer.from(body.replace(/\r\n$/, '')),
    },
  ];
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

test('retries wait 15 s doubling to 15 min, about 8 h 30 min over 40 attempts', () => {
  const waits = Array.from({ length: DEFAULT_ALERT_RETRY.attempts - 1 }, (_, index) =>
    alertRetryDelay(index + 1, DEFAULT_ALERT_RETRY),
  );
  assert.deepEqual(waits.slice(0, 8), [15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  const total = waits.reduce((sum, wait) => sum + wait, 0);
  assert.equal(humanDuration(total), '8 h 30 min 45 s');
});
