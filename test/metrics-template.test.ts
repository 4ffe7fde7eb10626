import { describe, expect, it } from 'vitest';
import { renderQuery, TemplateVars } from '../src/constructs/metrics/template';
import { TemplateRenderError, UserError } from '../src/errors';

const vars: TemplateVars = {
  name: 'podinfo',
  namespace: 'test',
  target: 'podinfo-app',
  service: 'podinfo-svc',
  ingress: 'podinfo-ing',
  route: 'podinfo-route',
  interval: '2m',
  variables: { direction: 'inbound', code: '5..' },
};

function renderError(template: string, name?: string): TemplateRenderError {
  try {
    renderQuery(template, vars, name);
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateRenderError);
    return err as TemplateRenderError;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('renderQuery', () => {
  it('substitutes every Flagger template function', () => {
    const out = renderQuery(
      '{{ name }}|{{ namespace }}|{{ target }}|{{ service }}|{{ ingress }}|{{ route }}|{{ interval }}',
      vars,
    );
    expect(out).toBe('podinfo|test|podinfo-app|podinfo-svc|podinfo-ing|podinfo-route|2m');
  });

  it('accepts actions with or without inner whitespace, including newlines and tabs', () => {
    expect(renderQuery('{{name}}-{{  target\t}}-{{\n interval\n}}', vars)).toBe('podinfo-podinfo-app-2m');
  });

  it('substitutes templateVariables', () => {
    const query = 'sum(rate(x{direction="{{ variables.direction }}", code=~"{{variables.code}}"}[{{ interval }}]))';
    expect(renderQuery(query, vars)).toBe('sum(rate(x{direction="inbound", code=~"5.."}[2m]))');
  });

  it('keeps text outside actions byte for byte, including lone braces', () => {
    const query = 'a { b } c }} d\n  {e}';
    expect(renderQuery(query, vars)).toBe(query);
  });

  it('trims whitespace around actions with Go trim markers', () => {
    expect(renderQuery('a  \n {{- name -}} \n  b', vars)).toBe('apodinfob');
    expect(renderQuery('a {{- name }} b', vars)).toBe('apodinfo b');
  });

  it('drops comments, keeping their trim markers', () => {
    expect(renderQuery('a {{/* note\n spanning lines */}} b', vars)).toBe('a  b');
    expect(renderQuery('a {{- /* note */ -}} b', vars)).toBe('ab');
  });

  it('does not re-render variable values that contain braces', () => {
    expect(renderQuery('up{a="{{ variables.v }}"}', { ...vars, variables: { v: '{{ name }}' } })).toBe('up{a="{{ name }}"}');
  });

  it('fails on a missing variable, naming the variable and the template', () => {
    const err = renderError('up{d="{{ variables.missing }}"}', 'metrictemplate test/latency');
    expect(err.variable).toBe('variables.missing');
    expect(err.message).toContain('"missing"');
    expect(err.message).toContain('metrictemplate test/latency');
    expect(err).toBeInstanceOf(UserError);
  });

  it('names the template by its start when no name is given', () => {
    expect(renderError('sum(up{d="{{ variables.nope }}"})').message).toContain('sum(up{d=');
  });

  it('does not treat inherited object keys as variables', () => {
    expect(renderError('{{ variables.constructor }}').variable).toBe('variables.constructor');
  });

  it('fails on an unknown function, naming it', () => {
    const err = renderError('{{ canary }}');
    expect(err.variable).toBe('canary');
    expect(err.message).toContain('function "canary" not defined');
  });

  it.each([
    ['{{ name | printf "%s" }}'],
    ['{{ if name }}x{{ end }}'],
    ['{{ printf "%s" name }}'],
    ['{{ "literal" }}'],
    ['{{ variables }}'],
    ['{{ name.first }}'],
    ['{{ variables.my-key }}'],
    ['{{ $x := name }}'],
    ['{{ }}'],
    ['{{-3}}'],
  ])('rejects %s as an unsupported template expression', (template) => {
    expect(renderError(template).message).toContain('unsupported template expression');
  });

  it('hints at the missing-dot mistake for field syntax', () => {
    const err = renderError('{{ .namespace }}');
    expect(err.message).toContain('unsupported template expression {{ .namespace }}');
    expect(err.message).toContain('{{ namespace }}');
  });

  it('fails on an unclosed action or comment', () => {
    expect(renderError('sum(x{a="{{ name"})').message).toContain('unclosed action');
    expect(renderError('x {{/* never closed').message).toContain('unclosed comment');
  });
});
