import { z } from 'zod';
import {
  DEFAULT_SUBJECT_TEMPLATE,
  SUBJECT_VARIABLES,
  subjectTemplateProblems,
} from '../alerts/subject-template.ts';
import { secretRef } from './secret-resolver.ts';
import { duration, expected, httpUrl, identifier, strictObject } from './zod-helpers.ts';

/** The recipient list `alerting.to` makes; routes name it like any other list. */
export const DEFAULT_LIST = 'default';

/** Languages a recipient list can read its mail in. */
export const ALERT_LANGUAGES = ['en', 'ja'] as const;
export type AlertLanguage = (typeof ALERT_LANGUAGES)[number];

/** A subject template, checked when the config loads (unknown variable, unbalanced section), not at 3 a.m. */
export const subjectTemplate = z
  .string({ error: expected('a subject template such as "[pw] {{state}} {{check}}"') })
  .superRefine((template, ctx) => {
    const problems = subjectTemplateProblems(template);
    if (problems) ctx.addIssue({ code: 'custom', message: problems });
  });

export const emailAddress = z.string().regex(/^[^@\s]+@[^@\s]+$/, {
  error: (issue) => `expected an email address, got ${JSON.stringify(issue.input)}`,
});

const language = z
  .enum(ALERT_LANGUAGES, {
    error: (issue) => `expected one of ${ALERT_LANGUAGES.join(', ')}, got ${JSON.stringify(issue.input)}`,
  })
  .default('en');

const webhookSchema = strictObject({
  url: z
    .union([z.string().regex(/\$\{(env|file):/), httpUrl()], {
      error: (issue) =>
        `expected an http:// or https:// URL, got ${JSON.stringify((issue as { input?: unknown }).input)}`,
    })
    .describe(
      'Where alerts are POSTed as JSON; may hold secret references ("https://hooks.example/${env:HOOK_TOKEN}"), and messages show only its origin. Required.',
    ),
  secret: secretRef().describe(
    'HMAC-SHA256 key as a secret reference; each request carries `X-Pathwatch-Signature: sha256=<hex>` of `<timestamp>.<body>`. Required.',
  ),
  timeout: duration({ min: 100, max: 120_000 })
    .default(10_000)
    .describe('How long one POST may take before it counts as failed (and is retried). Default 10s.'),
});

const listSchema = strictObject({
  to: z.array(emailAddress).min(1).optional().describe('Mail recipients of this list. Default none.'),
  language: language.describe('Language of the mails: `en` or `ja`. Default `en`.'),
  webhook: webhookSchema
    .optional()
    .describe('A webhook this list is also (or only) told through. Default none.'),
}).refine((list) => list.to !== undefined || list.webhook !== undefined, {
  error: 'a list needs `to` (mail recipients), `webhook`, or both',
});

const listNames = z
  .array(identifier('recipient list'))
  .min(1)
  .describe(`Recipient lists by name (\`${DEFAULT_LIST}\` is \`alerting.to\`). Required.`);

const escalationSchema = strictObject({
  after: duration({ min: 1000 }).describe(
    'How long an incident may stay unrecovered before it escalates. Required.',
  ),
  notify: listNames,
});

const routeSchema = strictObject({
  checks: z.array(z.string()).optional().describe('Check or journey ids this route is for. Default any.'),
  tags: z.array(z.string()).optional().describe('Tags (any of them) this route is for. Default any.'),
  locations: z
    .array(z.string())
    .optional()
    .describe('Locations (any of them DOWN) this route is for. Default any.'),
  notify: listNames,
  subject: subjectTemplate
    .optional()
    .describe(
      "Subject for this route's mails (a check's `alertSubject` still wins). Default `alerting.subject`.",
    ),
  degraded: z
    .boolean()
    .default(false)
    .describe('Also mail when a location turns DEGRADED, and back. Default false.'),
  escalate: escalationSchema
    .optional()
    .describe('Escalation for this route instead of `alerting.escalation`. Default `alerting.escalation`.'),
});

export const alertingSchema = strictObject({
  smtp: strictObject({
    host: z.string().min(1).describe('Mail server that sends the alerts: host name or IP address. Required.'),
    port: z.number().int().min(1).max(65535).default(587).describe('Its port. Default 587.'),
    secure: z
      .boolean()
      .default(false)
      .describe('true: TLS from the first byte (port 465); false: STARTTLS when offered. Default false.'),
    user: z.string().optional().describe('Login name. Default none: no login.'),
    password: secretRef()
      .optional()
      .describe('Login password as a secret reference ("${env:SMTP_PASSWORD}"). Default none.'),
    requireTls: z
      .boolean()
      .optional()
      .describe(
        'Refuse to go on without TLS (a STARTTLS stripped on the way would send the login in clear). Default true when `user` is set, else false.',
      ),
  })
    .optional()
    .describe('The mail server alerts are sent through. Required when any list has mail recipients.'),
  from: emailAddress.optional().describe('Sender address of alert emails. Required with `smtp`.'),
  to: z
    .array(emailAddress)
    .min(1)
    .optional()
    .describe(`Recipients of the \`${DEFAULT_LIST}\` list: every alert no route claims. Default none.`),
  language: language.describe(
    `Language of the \`${DEFAULT_LIST}\` list's mails: \`en\` or \`ja\`. Default \`en\`.`,
  ),
  subject: subjectTemplate
    .default(DEFAULT_SUBJECT_TEMPLATE)
    .describe(
      `Subject of alert emails; variables ${SUBJECT_VARIABLES.map((name) => `\`{{${name}}}\``).join(', ')}, and \`{{#name}}…{{/name}}\` for text kept only when name has a value (anything else is a problem). A route's \`subject\` or a check's \`alertSubject\` overrides it. Default \`${DEFAULT_SUBJECT_TEMPLATE}\`.`,
    ),
  lists: z
    .record(identifier('recipient list'), listSchema)
    .default({})
    .describe('Named recipient lists: `{ to, language, webhook }`. Default none.'),
  routes: z
    .array(routeSchema)
    .default([])
    .describe(
      `Which lists hear about which checks, tags and locations: an alert goes to every route that matches (all of its selectors), or to \`${DEFAULT_LIST}\` when none does. Default none.`,
    ),
  reminders: strictObject({
    every: duration({ min: 1000 }).default(3_600_000).describe('Period of reminders while DOWN. Default 1h.'),
    max: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(6)
      .describe('Reminders per incident at most (0: none). Default 6.'),
  })
    .prefault({})
    .describe('Reminder mails while an incident stays open.'),
  escalation: escalationSchema
    .optional()
    .describe('When an incident is not recovered after `after`, mail `notify` too. Default none.'),
  storm: strictObject({
    window: duration({ min: 1000, max: 3_600_000 })
      .default(120_000)
      .describe('The storm window. Default 2m.'),
    threshold: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe(
        "Mails per list sent at once within a window; the window's further alerts go in one digest at its end. Default 3.",
      ),
  })
    .prefault({})
    .describe('Many items changing at once give one digest, not a storm of mails.'),
  links: strictObject({
    ttl: duration({ min: 60_000, max: 30 * 86_400_000 })
      .default(86_400_000)
      .describe('How long the signed links in a mail open (run page, trace, capture, bundle). Default 24h.'),
  })
    .prefault({})
    .describe('The signed links in alert mails.'),
}).superRefine((alerting, ctx) => {
  const mails =
    alerting.to !== undefined || Object.values(alerting.lists).some((list) => list.to !== undefined);
  if (mails && !alerting.smtp) {
    ctx.addIssue({ code: 'custom', path: ['smtp'], message: 'required: a list has mail recipients' });
  }
  if (alerting.smtp && !alerting.from) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: 'required with smtp, expected an email address',
    });
  }
  if (alerting.smtp?.user && !alerting.smtp.password) {
    ctx.addIssue({
      code: 'custom',
      path: ['smtp', 'password'],
      message: 'required with smtp.user, expected a secret reference',
    });
  }
  // Without a default list, an alert no route claims would go to nobody: a route that
  // matches everything (no checks, tags or locations) must stand in for it.
  const catchAll = alerting.routes.some((route) => !route.checks && !route.tags && !route.locations);
  if (alerting.to === undefined && !catchAll) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message:
        'required unless a route without checks, tags or locations catches every alert, expected mail recipients',
    });
  }
  if (alerting.lists[DEFAULT_LIST] && alerting.to) {
    ctx.addIssue({
      code: 'custom',
      path: ['lists', DEFAULT_LIST],
      message: `"${DEFAULT_LIST}" is the list \`alerting.to\` makes: name this one differently`,
    });
  }
  const known = new Set([...Object.keys(alerting.lists), ...(alerting.to ? [DEFAULT_LIST] : [])]);
  const checkNames = (names: string[], path: PropertyKey[]) => {
    for (const [index, name] of names.entries()) {
      if (!known.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, index],
          message: `no recipient list "${name}" (lists: ${[...known].join(', ') || 'none'})`,
        });
      }
    }
  };
  for (const [index, route] of alerting.routes.entries()) {
    checkNames(route.notify, ['routes', index, 'notify']);
    if (route.escalate) checkNames(route.escalate.notify, ['routes', index, 'escalate', 'notify']);
  }
  if (alerting.escalation) checkNames(alerting.escalation.notify, ['escalation', 'notify']);
});

export type AlertingSettings = z.output<typeof alertingSchema>;
export type AlertRoute = AlertingSettings['routes'][number];
export type RecipientList = z.output<typeof listSchema>;
