import { Type } from '@sinclair/typebox';

/**
 * The one label-name grammar of the platform. An alert's labels are its fixed
 * names (`severity`, `host`, ...), the strings in `metadata.labels` and every
 * group-key field of its rule, and rules address event fields with dots
 * (`details.ip_address`), so a label name is dot-separated segments. Route
 * matchers and `group_by` in the outputs file, `POST /silences` and the
 * dashboard's silence form all check names with this, and nothing else.
 */
export const LABEL_NAME_SYNTAX = '^[A-Za-z_][A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]+)*$';
export const MAX_LABEL_NAME = 100;

const LABEL_NAME = new RegExp(LABEL_NAME_SYNTAX);

/** True for a name routes and silences can match on. */
export function isLabelName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_LABEL_NAME && LABEL_NAME.test(name);
}

/** What the grammar allows, in words, for error messages. */
export const LABEL_NAME_RULE = `a label name: letters, digits, _ and -, dot-separated (e.g. details.ip_address), starting with a letter or _, at most ${MAX_LABEL_NAME} characters`;

export const LabelNameSchema = Type.String({ pattern: LABEL_NAME_SYNTAX, maxLength: MAX_LABEL_NAME, description: LABEL_NAME_RULE });
