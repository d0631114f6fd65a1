"""Chat templates wherever a model ships them, vetted by parsing (`jinja`), never by rendering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from airlock.artifacts import Artifact
from airlock.findings import Finding
from airlock.formats import Format
from airlock.parsers.gguf import STRING, read_header
from airlock.scanning import ArtifactScanner, ScanContext

from .jinja_hits import Hit, Issue

TEMPLATE_CONFIGS = frozenset({"tokenizer_config.json", "chat_template.json", "processor_config.json"})
TEMPLATE_SUFFIXES = (".jinja", ".jinja2", ".j2")
GGUF_KEY = "tokenizer.chat_template"
MAX_CONFIG_BYTES = 256 << 20
MAX_MATCHES = 10
RULE_OF_ISSUE = {
    Issue.ESCAPE: "AIR601", Issue.DUNDER: "AIR602", Issue.DYNAMIC_ATTRIBUTE: "AIR603", Issue.EXTERNAL: "AIR604",
    Issue.UNPARSEABLE: "AIR605", Issue.FORMAT_GADGET: "AIR606", Issue.EXEC_NAME: "AIR607",
}  # fmt: skip
MESSAGES = {
    Issue.ESCAPE: "escapes the Jinja sandbox",
    Issue.DUNDER: "reads dunder or private attributes",
    Issue.DYNAMIC_ATTRIBUTE: "looks up an attribute whose name is computed at runtime",
    Issue.EXTERNAL: "loads another template",
    Issue.UNPARSEABLE: "cannot be vetted",
    Issue.FORMAT_GADGET: "calls str.format with attribute fields",
    Issue.EXEC_NAME: "names an execution primitive",
}
# With an escape in a template, its dunder reads and exec names are part of it, not separate findings.
FOLDED_INTO_ESCAPE = frozenset({Issue.DUNDER, Issue.EXEC_NAME})


@dataclass(frozen=True, slots=True)
class _Unvetted:
    """A template that cannot be analysed, and why (not a string, too large)."""

    reason: str


class ChatTemplates(ArtifactScanner):
    """Parses every chat template with jinja2's parser (never rendering it) and flags sandbox escapes.

    ## Why it matters
    A chat template is Jinja code that runs whenever a chat is formatted. transformers renders it in
    jinja2's sandbox, but llama-cpp-python (CVE-2024-34359, "Llama Drama"), SGLang (CVE-2026-5760)
    and litellm (GHSA-46cm-pfwv-cgf8) rendered templates from `tokenizer_config.json` or GGUF
    metadata with a plain `Environment`, where `cycler.__init__.__globals__.os.popen(...)` runs a
    shell; and the sandbox itself fell to `str.format` tricks (CVE-2024-56326, CVE-2025-27516).

    ## What it checks
    `chat_template` in `tokenizer_config.json`, `chat_template.json` and `processor_config.json` (a
    string, or a list of named templates), `*.jinja` files, and `tokenizer.chat_template*` in GGUF
    metadata (`tokenizer.chat_template` and `tokenizer.chat_template.<name>`). A file named `*.jinja`
    (`.j2`, `.jinja2`) is a template whatever its bytes sniff as: JSON, text with NUL bytes, a magic
    number. Chains that reach globals, builtins, subclasses, frames or a shell are AIR601
    (critical), including names built at runtime (`'__glo' ~ 'bals__'`, `|reverse`, `|join`, `%c`,
    `dict(__globals__=1)|first`); other dunder or private attributes AIR602; a lookup key that cannot
    be worked out statically AIR603: a subscript `x[k]` (jinja2 falls back to `getattr(x, k)` for a
    string `k`), `|attr(k)`, `map(attribute=k)`, `selectattr(k)`, `sort(attribute=k)`, `groupby(k)`,
    `map(f, …)` with `f` unknown, or `.format(…)` on a format string computed at runtime, unless the
    key can only be a number or a slice, is a key of the very mapping it subscripts (`{% for k in X %}…X[k]`),
    or subscripts a dict or list literal of the template's own (`jinja_keys` states the rule);
    include/import/extends AIR604; a template that does not parse, is not a
    string or is over the size limit AIR605 (high: it was not vetted; real templates parse, since the
    parser has transformers' settings, loop controls and `{% generation %}` included);
    `str.format` with attribute fields AIR606; `os`, `subprocess`, `eval` and kin AIR607.

    ## Example
    `tokenizer_config.json` whose `chat_template` holds `{{ cycler.__init__.__globals__.os.popen('id').read() }}`:
    AIR601 (critical) at `tokenizer_config.json#chat_template`.

    ## References
    - CVE-2024-34359, CVE-2026-5760, CVE-2024-56326, CVE-2025-27516, GHSA-46cm-pfwv-cgf8
    - AML.T0010, AML.T0011.000, CWE-1336, CWE-94
    """

    name = "chat_templates"
    version = "3"
    formats: ClassVar[frozenset[Format]] = frozenset(Format) - {
        Format.EMPTY
    }  # `*.jinja` whatever its bytes sniff as
    rules: ClassVar[frozenset[str]] = frozenset(RULE_OF_ISSUE.values())

    def applies(self, artifact: Artifact) -> bool:
        """A template by its name and place, whatever its bytes sniff as; a config only when it is JSON."""
        if _is_template_file(artifact):
            return artifact.format is not Format.EMPTY
        base = artifact.path.rsplit("/", 1)[-1]
        return (artifact.format is Format.JSON and base in TEMPLATE_CONFIGS) or artifact.format is Format.GGUF

    def scan(self, artifact: Artifact, ctx: ScanContext) -> Iterator[Finding]:
        for where, template in self._templates(artifact, ctx):
            location = f"{artifact.path}{where}"
            if isinstance(template, _Unvetted):
                hits, text = [Hit(Issue.UNPARSEABLE, 0, template.reason)], ""
            else:
                from .jinja import analyse  # jinja2 is only imported when there is a template

                hits, text = analyse(template), template
            yield from self._findings(hits, artifact, ctx, location, text)

    def _templates(self, artifact: Artifact, ctx: ScanContext) -> Iterator[tuple[str, str | _Unvetted]]:
        """(location suffix, template) for every template the file holds."""
        if artifact.format is Format.GGUF and not _is_template_file(artifact):
            for kv in read_header(
                artifact.location,
                artifact.size,
                artifact.sha256,
                limit=ctx.limits.max_header_bytes,
                max_entries=ctx.limits.max_entries,
            ).strings(GGUF_KEY):
                value = (
                    kv.value if kv.type == STRING and isinstance(kv.value, str) else _Unvetted("not a string")
                )
                yield f"@metadata:{kv.key}", value
            return
        if artifact.size > MAX_CONFIG_BYTES:
            yield "", _Unvetted(f"{artifact.size} bytes, over airlock's {MAX_CONFIG_BYTES}-byte limit")
            return
        text = artifact.location.read_bytes().decode("utf-8", errors="replace")
        if _is_template_file(
            artifact
        ):  # JSON-looking, NUL-bearing or binary bytes render as a template all the same
            yield "", text
            return
        try:
            config = json.loads(
                text.removeprefix("\ufeff")
            )  # a loader that reads "utf-8-sig" takes a BOM'd config
        except (ValueError, RecursionError):
            return  # not JSON after all: nothing loads a template from it
        templates = config.get("chat_template") if isinstance(config, dict) else None
        if templates is None:
            return
        if isinstance(templates, list):  # transformers' named form: [{"name": ..., "template": ...}, ...]
            named = [_list_entry(index, entry) for index, entry in enumerate(templates)]
        elif isinstance(templates, dict):
            named = [(f"#chat_template/{name}", t) for name, t in templates.items()]
        else:
            named = [("#chat_template", templates)]
        for where, template in named:
            if isinstance(template, (str, _Unvetted)):
                yield where, template
            else:
                yield where, _Unvetted(f"a JSON {_json_type(template)}, not a string")

    def _findings(
        self, hits: list[Hit], artifact: Artifact, ctx: ScanContext, location: str, template: str
    ) -> Iterator[Finding]:
        escape = any(h.issue is Issue.ESCAPE for h in hits)
        grouped: dict[Issue, list[Hit]] = {}
        for hit in hits:
            issue = Issue.ESCAPE if escape and hit.issue in FOLDED_INTO_ESCAPE else hit.issue
            grouped.setdefault(issue, []).append(hit)
        digest = hashlib.sha256(template.encode("utf-8", errors="replace")).hexdigest()
        for issue, found in grouped.items():
            first = min(found, key=lambda h: h.line)
            matches = list(dict.fromkeys(h.detail for h in sorted(found, key=lambda h: h.issue is not issue)))
            evidence = {"line": first.line, "matches": matches[:MAX_MATCHES], "template_sha256": digest}
            message = f"chat template {MESSAGES[issue]}: {matches[0]}"
            yield ctx.finding(RULE_OF_ISSUE[issue], self.name, artifact.path, location, message, evidence)


def _is_template_file(artifact: Artifact) -> bool:
    return artifact.path.rsplit("/", 1)[-1].lower().endswith(TEMPLATE_SUFFIXES)


def _list_entry(index: int, entry: object) -> tuple[str, object]:
    """One entry of the list form, vetted on its own: a malformed entry never hides the others."""
    if isinstance(entry, dict) and "template" in entry:
        return f"#chat_template/{entry.get('name', index)}", entry["template"]
    if isinstance(entry, str):
        return f"#chat_template[{index}]", entry
    return f"#chat_template[{index}]", _Unvetted(
        f"list entry is a JSON {_json_type(entry)}, not a {{name, template}} object"
    )


def _json_type(value: object) -> str:
    names = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        type(None): "null",
        int: "number",
        float: "number",
    }
    return names.get(type(value), type(value).__name__)
