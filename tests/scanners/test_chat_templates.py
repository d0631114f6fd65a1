"""chat_templates: published escapes and their obfuscations caught, official templates clean, nothing rendered."""

from __future__ import annotations

import time
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.findings import Finding, Severity
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
from airlock.scanners.chat_templates.jinja import MAX_TEMPLATE_CHARS, Issue, analyse
from fixtures import templates, weights_files
from tests.fuzzing import examples

POLICY = parse_policy('name = "templates"\nrequired_scanners = []\n', "test")
SCANNERS = ["safetensors_header", "gguf_header", "chat_templates"]
HOSTILE = settings(max_examples=examples(200), deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def _findings(path: Path) -> tuple[Finding, ...]:
    return scan(str(path), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS)).findings


@pytest.mark.parametrize("name", sorted(templates.MALICIOUS))
def test_each_hostile_template_yields_exactly_its_rules(name: str, generated) -> None:
    generator, expected = templates.MALICIOUS[name]
    assert {f.rule for f in _findings(generated(generator))} == expected


@pytest.mark.parametrize("name", sorted(templates.MALICIOUS))
def test_each_hostile_template_fails_the_default_threshold(name: str, generated) -> None:
    report = scan(
        str(generated(templates.MALICIOUS[name][0])),
        ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS),
    )
    assert POLICY.fail_at == Severity.HIGH
    assert not report.passed, [(f.rule, str(f.severity)) for f in report.findings]


@pytest.mark.parametrize("name", sorted(templates.BENIGN))
def test_official_templates_are_clean(name: str, generated) -> None:
    assert [f for f in _findings(generated(templates.BENIGN[name])) if f.severity >= Severity.LOW] == []


@pytest.mark.parametrize(
    "name, location",
    [
        ("llama-drama", "tokenizer_config.json#chat_template"),
        ("named-template-escape", "tokenizer_config.json#chat_template/tool_use"),
        ("template-reference-context", "chat_template.jinja"),
        ("processor-template-escape", "chat_template.json#chat_template"),
        ("template-not-a-string", "tokenizer_config.json#chat_template"),
    ],
)
def test_findings_say_which_template(name: str, location: str, generated) -> None:
    assert [f.location for f in _findings(generated(templates.MALICIOUS[name][0]))] == [location]


def test_a_malformed_entry_of_the_list_form_is_unvetted_on_its_own(generated) -> None:
    findings = _findings(generated(templates.MALICIOUS["named-template-junk-entry"][0]))
    assert sorted((f.rule, f.location, str(f.severity)) for f in findings) == [
        ("AIR601", "tokenizer_config.json#chat_template/default", "critical"),
        ("AIR605", "tokenizer_config.json#chat_template[1]", "high"),
    ]
    (junk,) = [f for f in findings if f.rule == "AIR605"]
    assert junk.evidence["matches"] == ["list entry is a JSON object, not a {name, template} object"]


@pytest.mark.parametrize(
    "name, sniffed, location",
    [
        ("jinja-file-sniffs-as-json", "json", "chat_template.jinja"),
        ("jinja-file-with-nul", "unknown", "chat_template.jinja"),
        ("jinja-file-dynamic-key-with-nul", "unknown", "tool.j2"),
        ("gguf-named-template-escape", "gguf", "model.gguf@metadata:tokenizer.chat_template.tool_use"),
        ("gguf-dynamic-key", "gguf", "model.gguf@metadata:tokenizer.chat_template"),
    ],
)
def test_a_template_is_one_by_its_name_and_place_whatever_its_bytes_sniff_as(
    name: str, sniffed: str, location: str, generated
) -> None:
    generator, expected = templates.MALICIOUS[name]
    report = scan(str(generated(generator)), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS))
    assert [str(a.format) for a in report.artifacts] == [sniffed]
    assert {(f.rule, f.location) for f in report.findings if f.scanner == "chat_templates"} == {
        (r, location) for r in expected
    }
    assert all(f.severity >= Severity.HIGH for f in report.findings) and not report.passed


def test_an_unvettable_template_is_high(generated) -> None:
    (finding,) = _findings(generated(templates.MALICIOUS["unparseable"][0]))
    assert (finding.rule, finding.severity, finding.location) == (
        "AIR605",
        Severity.HIGH,
        "tokenizer_config.json#chat_template",
    )


def test_an_escape_is_one_critical_finding_with_its_chain(generated) -> None:
    (finding,) = _findings(generated(templates.MALICIOUS["cycler-init-globals-os"][0]))
    assert (finding.rule, finding.severity) == ("AIR601", Severity.CRITICAL)
    assert finding.evidence["matches"] == ["cycler.__init__.__globals__.os.popen(…).read(…)"]


def test_hits_carry_their_line() -> None:
    assert [(h.issue, h.line) for h in analyse("{{ messages }}\n\n{{ lipsum.__globals__ }}")] == [
        (Issue.ESCAPE, 3)
    ]


def test_the_gguf_template_is_vetted_through_the_shared_header(generated) -> None:
    (finding,) = _findings(generated(weights_files.MALICIOUS["gguf-chat-template-escape"][0]))
    assert (finding.scanner, finding.location) == (
        "chat_templates",
        "model.gguf@metadata:tokenizer.chat_template",
    )


@pytest.mark.parametrize(
    "expression, issue",
    [
        ("request.__class__.__mro__[1].__subclasses__()", Issue.ESCAPE),
        ("x|attr('__gl' + 'obals__')", Issue.ESCAPE),
        ("x|attr('__GLOBALS__'|lower)", Issue.ESCAPE),
        ("x|attr('{}{}'.format('__glo', 'bals__'))", Issue.ESCAPE),
        ("x|attr('__globals__x'[:-1])", Issue.ESCAPE),
        ("x|attr('_' * 2 ~ 'builtins' ~ '_' * 2)", Issue.ESCAPE),
        ("x[('__glob', 'als__')|join]", Issue.ESCAPE),
        ("x.gi_frame.f_back", Issue.ESCAPE),
        ("[x]|map(attribute='__globals__')|list", Issue.ESCAPE),
        ("x.__class__.__name__", Issue.DUNDER),
        ("x['__class__']", Issue.DUNDER),
        ("self._TemplateReference__context", Issue.DUNDER),
        ("x|attr(messages[0]['content'])", Issue.DYNAMIC_ATTRIBUTE),
        ("('{0.__class__}'|attr('format'))(x)", Issue.FORMAT_GADGET),
        ("eval('1')", Issue.EXEC_NAME),
        ("x.subprocess", Issue.EXEC_NAME),
    ],
)
def test_obfuscations_resolve_to_their_issue(expression: str, issue: Issue) -> None:
    assert issue in {hit.issue for hit in analyse("{{ " + expression + " }}")}


@pytest.mark.parametrize(
    "source",
    [
        "{{ lipsum[k] }}",  # a context variable
        "{{ cycler[messages[-1].content] }}",  # a chat message picks the attribute
        "{{ message[message.content ~ ''] }}",
        "{{ x|attr(messages[0]['content']|lower) }}",
        "{% macro m(o, k) %}{{ o[k] }}{% endmacro %}{{ m(lipsum, messages[0].content) }}",
        "{% macro m(o, k='role') %}{{ o[k] }}{% endmacro %}{{ m(lipsum) }}{{ m(*args) }}",  # *args: any parameter
        "{% macro m(o, k='role') %}{{ o[k] }}{% endmacro %}{% set f = m %}{{ f(lipsum, key) }}",  # an alias
        "{% set ns = namespace(n='') %}{% for c in ['_', 'x'] %}{% set ns.n = ns.n ~ c %}{% endfor %}{{ x[ns.n] }}",
        "{% set ns = namespace(k='role') %}{% set ns = messages[0] %}{{ x|attr(ns.k) }}",  # no longer a namespace
        "{% set ns = namespace({'k': 'role'}) %}{{ x|attr(ns.k) }}",  # fields from a positional dict
        "{% if flag %}{% set k = 'role' %}{% endif %}{{ x[k] }}",  # the context's k on the other branch
        "{{ m[k] }}{% set k = 'role' %}",  # read before it is set
        "{% for k in keys %}{{ other[k] }}{% endfor %}",  # keys of something else
        "{% set t = {'a': 1} %}{{ t[a][b] }}",  # the literal's attribute is not a literal
        "{{ x|map('attr', k)|list }}",
        "{{ x|map(f, 'y')|list }}",
        "{{ x|selectattr(k)|list }}",
        "{{ x|rejectattr(k)|list }}",
        "{{ x|groupby(k)|list }}",
        "{{ x|sort(false, false, k)|list }}",
        "{{ x|unique(attribute=k)|list }}",
        "{{ x|max(attribute=k) }}",
        "{{ x|sum(attribute=k) }}",
        "{{ x|attr(*names) }}",
        "{{ fmt.format(cycler) }}",
    ],
)
def test_keys_that_cannot_be_worked_out_statically_are_dynamic(source: str) -> None:
    assert Issue.DYNAMIC_ATTRIBUTE in {hit.issue for hit in analyse(source)}


@pytest.mark.parametrize(
    "source",
    [
        "{% for m in messages %}{{ messages[loop.index0 - 1]['role'] }}{{ messages[loop.index0 + 1].role }}{% endfor %}",
        "{% for i in range(messages|length) %}{{ messages[i].content }}{% endfor %}",
        "{{ messages[messages|length - 1]['content'] }}{{ messages[-1] }}{{ messages[1:] }}{{ messages[::-1] }}",
        "{% set ns = namespace(i=0) %}{% for m in messages %}{% set ns.i = ns.i + 1 %}{% endfor %}{{ messages[ns.i] }}",
        "{% set idx = (messages|length - 1) - 1 %}{{ messages[idx] }}",
        "{{ messages[(x|int) * 2 % 3] }}{{ messages[x is defined] }}{{ messages[x|default(0)|int] }}",
        "{% for k in d %}{{ d[k] }}{% endfor %}",
        "{% for k, v in tool.parameters.properties|items %}{{ tool.parameters.properties[k].type }}{% endfor %}",
        "{% for k, v in d.items() %}{{ d[k] }}{% endfor %}{% for k, v in d|dictsort %}{{ d[k] }}{% endfor %}",
        "{% set types = {'string': 'str', 'integer': 'int'} %}{{ types[spec.type] }}{{ ['a', 'b'][i] }}",
        "{% for k in ['content', 'text'] %}{{ m[k] }}{% endfor %}",
        "{% macro m(o, k='role') %}{{ o[k] }}{% endmacro %}{{ m(x) }}{{ m(x, 'content') }}{{ m(x, k='name') }}",
        "{% set key = 'content' %}{{ message[key] }}{% set ns = namespace(k='role') %}{{ message[ns.k] }}",
        "{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}{{ x|map('trim')|list }}",
        "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}{{ x|sort(attribute='name') }}",
        "{{ '{}: {}'.format(a, b) }}{{ ('%s' % x).strip() }}{{ x.format }}",
    ],
)
def test_keys_that_are_numbers_own_keys_or_literals_are_not_flagged(source: str) -> None:
    assert analyse(source) == []


@pytest.mark.parametrize(
    "expression",
    [
        "'{:.2f}'.format(score)",
        "'%05.1f'|format(score)",
        "messages|selectattr('role', 'equalto', 'system')|list",
        "message['_id'] ~ message.content|trim",
        "loop.cycle('odd', 'even')",
        "tools|map(attribute='function.name')|join(', ')",
        "namespace(system='You are helpful').system",
        "raise_exception('roles must alternate')",
        "message.tool_calls[0].function.arguments|tojson(indent=2)",
        "strftime_now('%d %b %Y')",
        "'__' ~ message.role",
        "vars",  # as the template's own variable, below
    ],
)
def test_what_real_templates_do_is_not_flagged(expression: str) -> None:
    assert analyse("{% set vars = messages %}{{ " + expression + " }}") == []


@pytest.mark.parametrize(
    "source",
    [
        templates.CHATML_LOOP_CONTROLS,
        "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}{{ m.content }}{% endfor %}",
        "{%- for m in messages -%}{%- if m.role == 'system' -%}{%- continue -%}{%- endif -%}{{ m.content }}{%- endfor -%}",
        "{% for m in messages %}{%- generation -%}{{ m.content }}{%- endgeneration -%}{% endfor %}",
        "{% for k, v in tools|items if k %}{{ k }}{% else %}none{% endfor %}",
        "{% macro f(x) %}{{ caller(x) }}{% endmacro %}{% call(y) f(1) %}{{ y }}{% endcall %}",
        "{% filter upper %}{{ bos_token }}{% endfilter %}{% with a = 1 %}{{ a }}{% endwith %}",
        "{% raw %}{{ not parsed }}{% endraw %}\n  {% if x %}\n  y\n  {% endif %}",
        "{% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}{{ ns.n if ns.n else 'none' }}",
    ],
)
def test_what_transformers_compiles_airlock_parses(source: str) -> None:
    try:
        from transformers.utils.chat_template_utils import _compile_jinja_template
    except ImportError:  # a private helper of transformers, which may move
        pytest.skip("transformers has no _compile_jinja_template")
    _compile_jinja_template(source)  # transformers' environment accepts it (compiled, never rendered)
    assert [h for h in analyse(source) if h.issue is Issue.UNPARSEABLE] == []


def test_parsing_never_compiles_or_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a template was compiled or rendered")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    monkeypatch.setattr(jinja2.Template, "render", refuse)
    assert Issue.ESCAPE in {h.issue for h in analyse(templates.llama_drama("never-rendered"))}


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 5000 + "x" + ")" * 5000 + " }}",
        "{{ 1" + "0" * 5000 + " }}",
        "x" * (MAX_TEMPLATE_CHARS + 1),
        "{% for %}",
        "{{ x|attr(" + "'_' ~ " * 3000 + "'_') }}",
    ],
)
def test_hostile_sources_are_unparseable_or_analysed_not_crashes(source: str) -> None:
    start = time.perf_counter()
    hits = analyse(source)
    assert all(isinstance(h.issue, Issue) for h in hits)
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)


_TOKENS = ["{{", "}}", "{%", "%}", " ", "x", "'__'", "'glo'", "~", "+", "|attr(", "|join", "|reverse", "(", ")", "[", "]",
           ".", "__class__", "for ", " in ", "set ", "=", ",", "namespace(", "endfor", "if ", "endif", "*", "%", "'%c'",
           "95", "format", "dict(", "__globals__=1", "macro ", "endmacro", "include ", "{#", "#}"]  # fmt: skip


@HOSTILE
@given(pieces=st.lists(st.sampled_from(_TOKENS), max_size=60))
def test_random_token_soup_never_crashes(pieces: list[str]) -> None:
    start = time.perf_counter()
    assert all(isinstance(h.issue, Issue) for h in analyse("".join(pieces)))
    assert time.perf_counter() - start < 15.0  # hang guard, not a speed test (speed lives in bench/)


@HOSTILE
@given(text=st.text(max_size=200))
def test_random_text_never_crashes(text: str) -> None:
    assert all(isinstance(h.issue, Issue) for h in analyse(text))


def test_folding_leaves_the_parsed_tree_as_it_was() -> None:
    """jinja2's optimizer folds a tree in place; the context-name pass must not (`['a', 'b'][i]` stays a list)."""
    from airlock.scanners.chat_templates.jinja import _environment
    from airlock.scanners.chat_templates.jinja_fold import Folder

    source = "{% set t = ['a', 'b'] %}{{ t[i] ~ ('x' ~ 'y') }}{{ ['a', 'b'][i] }}"
    tree = _environment().parse(source)
    Folder(tree)
    assert tree == _environment().parse(source)
