// Text templating: `Hello {{contact.firstName ?? 'there'}}`. Each `{{ … }}` hole is an expression of
// the safe expression language (expression.ts). A hole that reads a missing variable is an error at
// run time (the node's error exit), unless it supplies a default with `??`.
import { createError } from '../errors.ts';
import { ExpressionCache, ExpressionError, evaluate, parseExpression, toText, type Ast, type Scope } from './expression.ts';

export type TemplatePart = string | { src: string; ast: Ast };

export interface TemplateProblem {
  hole: string;
  message: string;
}

/** Enough to tell what is wrong; a template made of thousands of bad holes stops here. */
const MAX_TEMPLATE_PROBLEMS = 10;

/**
 * Split a template into text and parsed holes; collects the bad holes (up to MAX_TEMPLATE_PROBLEMS)
 * instead of stopping at one. One left-to-right pass with indexOf: a lazy `{{(.*?)}}` pattern
 * rescans to the end from every `{{` when no `}}` follows, which took seconds on 120 KB of `{{`.
 */
export function parseTemplate(text: string): { parts: TemplatePart[]; problems: TemplateProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let last = 0;
  let rest = '';
  while (problems.length < MAX_TEMPLATE_PROBLEMS) {
    const open = text.indexOf('{{', last);
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) break;
    if (open > last) {
      parts.push(text.slice(last, open));
      rest += text.slice(last, open);
    }
    const src = text.slice(open + 2, close).trim();
    try {
      if (src === '') throw new ExpressionError('empty {{ }}', 0);
      parts.push({ src, ast: parseExpression(src) });
    } catch (err) {
      problems.push({ hole: src, message: err instanceof Error ? err.message : String(err) });
    }
    last = close + 2;
  }
  if (last < text.length) {
    parts.push(text.slice(last));
    rest += text.slice(last);
  }
  if (problems.length < MAX_TEMPLATE_PROBLEMS && (rest.includes('{{') || rest.includes('}}'))) problems.push({ hole: '', message: "unbalanced '{{' or '}}'" });
  return { parts, problems };
}

export function hasTemplate(text: string): boolean {
  return text.includes('{{');
}

/** Renders templates, caching parsed forms per instance (one per flow run). */
export class TemplateRenderer {
  private readonly expressions = new ExpressionCache();
  private readonly templates = new Map<string, TemplatePart[]>();

  render(text: string, scope: Scope): string {
    if (!hasTemplate(text)) return text;
    let parts = this.templates.get(text);
    if (parts === undefined) {
      const parsed = parseTemplate(text);
      const first = parsed.problems[0];
      if (first !== undefined) {
        throw createError('GW_ERR_FLOW_TEMPLATE', `template hole {{${first.hole}}}: ${first.message}`, { statusCode: 400 });
      }
      parts = parsed.parts;
      this.templates.set(text, parts);
    }
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = evaluate(part.ast, scope);
      if (value === undefined) {
        throw createError('GW_ERR_FLOW_MISSING_VARIABLE', `template reads {{${part.src}}}, which is not set; give a default with ?? 'text'`, {
          details: { hole: part.src },
        });
      }
      out += toText(value);
    }
    return out;
  }

  /** Template every string inside a JSON value (http bodies, set values). */
  renderDeep(value: unknown, scope: Scope): unknown {
    if (typeof value === 'string') return this.render(value, scope);
    if (Array.isArray(value)) return value.map((v) => this.renderDeep(v, scope));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.renderDeep(v, scope);
      return out;
    }
    return value;
  }

  expression(src: string): Ast {
    return this.expressions.get(src);
  }
}
