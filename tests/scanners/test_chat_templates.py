"""chat_templates: published escapes and their obfuscations caught, official templates clean, nothing rendered."""

from __future__ import annotations

import time
from pathlib import Path

import jinja2
import pytest
from airlock.scanners.chat_templates.jinja import MAX_TEMPLATE_CHARS, Issue, analyse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.findings import Finding, Severity
from airlock.pipeline import ScanOptions, scan
from airlock.policy import parse_policy
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
    report = scan(str(generated(templates.MALICIOUS[name][0])), ScanOptions(policy=POLICY, use_cache=False, scanners=SCANNERS))
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


def test_an_unvettable_template_is_high(generated) -> None:
    (finding,) = _findings(generated(templates.MALICIOUS["unparseable"][0]))
    assert (finding.rule, finding.severity, finding.location) == ("AIR605", Severity.HIGH, "tokenizer_config.json#chat_template")


def test_an_escape_is_one_critical_finding_with_its_chain(generated) -> None:
    (finding,) = _findings(generated(templates.MALICIOUS["cycler-init-globals-os"][0]))
    assert (finding.rule, finding.severity) == ("AIR601", Severity.CRITICAL)
    assert finding.evidence["matches"] == ["cycler.__init__.__globals__.os.popen(…).read(…)"]


def test_hits_carry_their_line() -> None:
    assert [(h.issue, h.line) for h in analyse("{{ messages }}\n\n{{ lipsum.__globals__ }}")] == [(Issue.ESCAPE, 3)]


def test_the_gguf_template_is_vetted_through_the_shared_header(generated) -> None:
    (finding,) = _findings(generated(weights_files.MALICIOUS["gguf-chat-template-escape"][0]))
    assert (finding.scanner, finding.location) == ("chat_templates", "model.gguf@metadata:tokenizer.chat_template")


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
    ["{{ " + "(" * 5000 + "x" + ")" * 5000 + " }}", "{{ 1" + "0" * 5000 + " }}", "x" * (MAX_TEMPLATE_CHARS + 1),
     "{% for %}", "{{ x|attr(" + "'_' ~ " * 3000 + "'_') }}"],
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
