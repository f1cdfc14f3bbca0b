import type { Kysely } from 'kysely';
import Mustache from 'mustache';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KermaError } from '../errors.js';
import type { Database } from '../storage/database-schema.js';

/** A template file: Mustache in subject, text and optional html; fields such as {{contact.traits.first_name}}. */
export const templateFileSchema = z
  .object({
    subject: z.string().min(1).max(300),
    text: z.string().min(1).max(100_000),
    html: z.string().min(1).max(200_000).optional(),
  })
  .strict();
export type EmailTemplate = z.infer<typeof templateFileSchema>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses and checks a template file: YAML shape and Mustache syntax, with the field that is wrong. */
export function parseTemplateFile(text: string, file: string): EmailTemplate {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new KermaError('invalid_input', `${file}: not YAML: ${(error as Error).message}`);
  }
  const parsed = templateFileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new KermaError('invalid_input', `${file}: ${issues.join('; ')}; expected subject, text and optional html`);
  }
  for (const field of ['subject', 'text', 'html'] as const) {
    const source = parsed.data[field];
    if (source === undefined) continue;
    try {
      Mustache.parse(source);
    } catch (error) {
      throw new KermaError('invalid_input', `${file}: ${field}: ${(error as Error).message}`);
    }
  }
  return parsed.data;
}

export async function saveEmailTemplate(
  db: Kysely<Database>,
  workspaceId: string,
  name: string,
  template: EmailTemplate,
): Promise<void> {
  if (!NAME.test(name))
    throw new KermaError('invalid_input', `template name "${name}" must be 1-64 letters, digits, _ . or -`);
  const row = { subject: template.subject, text: template.text, html: template.html ?? null, updated_at: Date.now() };
  await db
    .insertInto('email_templates')
    .values({ workspace_id: workspaceId, name, ...row })
    .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet(row))
    .execute();
}

export async function loadEmailTemplate(
  db: Kysely<Database>,
  workspaceId: string,
  name: string,
): Promise<EmailTemplate | null> {
  const row = await db
    .selectFrom('email_templates')
    .select(['subject', 'text', 'html'])
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) return null;
  return { subject: row.subject, text: row.text, ...(row.html ? { html: row.html } : {}) };
}

export async function listEmailTemplates(db: Kysely<Database>, workspaceId: string) {
  return db
    .selectFrom('email_templates')
    .select(['name', 'subject', 'updated_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
}

/** Fills a template: subject and text verbatim, html with every field HTML-escaped (fields come from form data). */
export function renderEmail(template: EmailTemplate, view: Record<string, unknown>) {
  const plain = (source: string) => Mustache.render(source, view, {}, { escape: (value: unknown) => String(value) });
  return {
    subject: plain(template.subject)
      .replace(/[\r\n]+/g, ' ')
      .trim(),
    text: plain(template.text),
    ...(template.html ? { html: Mustache.render(template.html, view) } : {}),
  };
}
