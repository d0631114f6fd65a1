"""The behavioural and data sections of the HTML report.

Both read the report's free-form `behavior` / `data` mappings defensively (a key may be missing in a
report written by another version or for another kind of model) and never print raw arrays: numbers
become tables, charts (`airlock.render.svg`) and pictures (PNG `data:` URIs only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from airlock.behavior.outcome import NOT_DETERMINED, SUSPECTED
from airlock.behavior.outcome import outcome as behavior_outcome
from airlock.render.evidence import is_png_uri, summarise_numbers
from airlock.render.svg import Bar, bar_chart, gauge, histogram
from airlock.scanning import CheckResult

MAX_PAIRS = 20  # contamination pairs listed per kind
MAX_ROWS = 100  # rows of any table


def _text(value: Any) -> str:
    if value is None:
        return "<span class='muted'>n/a</span>"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return escape(f"{value:.4g}")
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if len(value) <= 20 and all(isinstance(v, int | str) for v in value):
            return escape(", ".join(str(v) for v in value))
        summary = summarise_numbers(value)
        if summary is not None:
            return escape(summary)
        return escape(", ".join(str(v) for v in value[:MAX_ROWS]))
    return escape(str(value))


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='facts'><tbody>{body}</tbody></table>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[:MAX_ROWS])
    more = (
        f"<p class='muted'>… {len(rows) - MAX_ROWS} more rows in the JSON report</p>"
        if len(rows) > MAX_ROWS
        else ""
    )
    ident = f" id='{table_id}'" if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _figure(uri: Any, caption: str, *, suspect: bool = False) -> str:
    if not is_png_uri(uri):
        return ""
    cls = " class='suspect'" if suspect else ""
    return f"<figure{cls}><img src='{uri}' alt='{escape(caption)}'><figcaption>{escape(caption)}</figcaption></figure>"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


# ------------------------------------------------------------------------------------------- behaviour


def _timing(b: Mapping[str, Any], name: object) -> Any:
    """Wall-clock seconds of one part of the behavioural scan (`behavior.timings`)."""
    timings = b.get("timings")
    return timings.get(name) if isinstance(timings, Mapping) and isinstance(name, str) else None


def behavior_section(b: Mapping[str, Any], checks: Sequence[CheckResult] = ()) -> str:
    """The behavioural section; its one-line answer comes from `airlock.behavior.outcome`, as in
    every other format."""
    parts = ["<section id='behavior'><h2>Behavioural scan</h2>"]
    score, threshold = b.get("score"), b.get("threshold")
    found = behavior_outcome(b, checks)
    if found is not None and found.answer == SUSPECTED:
        outcome = "<b style='color:#cf222e'>backdoor suspected</b>"
    elif found is not None and found.answer == NOT_DETERMINED:
        outcome = f"<b>not determined</b> ({escape(str(found.reason))})"
    else:
        outcome = "no backdoor found"
    suspect = b.get("suspect_class")
    suspect_text = (
        f"class {escape(str(suspect))} ({escape(str(b.get('suspect_label')))})"
        if suspect is not None
        else "none"
    )
    score_text = _text(score)
    if isinstance(score, int | float) and isinstance(threshold, int | float):
        score_text = (
            f"<span id='behavior-score'>{escape(f'{score:.4g}')}</span> against threshold {escape(f'{threshold:.4g}')}"
            f"<br>{gauge(float(score), float(threshold), title='backdoor score against its threshold')}"
        )
    parts.append(
        _facts(
            [
                ("outcome", outcome),
                ("score", score_text),
                ("suspect class", suspect_text),
                ("candidate class", _text(b.get("candidate_class"))),
                ("trigger success rate", _text(b.get("attack_success_rate"))),
                ("agreeing families", _text(b.get("agreeing_families"))),
                ("method", _text(b.get("method"))),
                ("mode / kind", f"{_text(b.get('mode'))} / {_text(b.get('kind'))}"),
                ("evaluated on", f"{_text(b.get('evaluated_on'))} ({_text(b.get('rows'))} rows)"),
                ("complete", _text(b.get("complete"))),
                ("time", f"{_text(_timing(b, 'trigger_reversal'))} s on {_text(b.get('device'))}"),
            ]
        )
    )
    families = _dicts(b.get("families"))
    if families:
        parts.append("<h3>Trigger families</h3>")
        rows = [
            [
                escape(str(f.get("family"))),
                _text(f.get("suspect")),
                _text(f.get("gap")),
                _text(f.get("threshold")),
                _text(f.get("ratio")),
                (
                    "<b>outlier</b>"
                    if isinstance(f.get("ratio"), int | float) and f["ratio"] >= 1
                    else "within range"
                ),
                _text(f.get("unit")),
                f"{_text(f.get('steps'))} steps, {_text(_timing(b, f.get('family')))} s"
                + ("" if f.get("complete", True) else " (cut short)"),
            ]
            for f in families
        ]
        parts.append(
            _table(
                ["family", "suspect", "gap", "threshold", "gap/threshold", "result", "size unit", "run"],
                rows,
                "families",
            )
        )
    parts.append(_triggers(b))
    activation = b.get("activation_clustering")
    if isinstance(activation, Mapping):
        parts.append(_activation(activation))
    parts.append("</section>")
    return "".join(parts)


def _triggers(b: Mapping[str, Any]) -> str:
    parts: list[str] = []
    trigger = b.get("trigger") if isinstance(b.get("trigger"), Mapping) else None
    suspect = b.get("suspect_class", b.get("candidate_class"))
    images = _mapping(b.get("images"))
    if trigger is not None:
        family, cls = trigger.get("family"), trigger.get("class")
        parts.append(
            f"<h3>Reversed trigger of class {escape(str(cls))} ({escape(str(family))})</h3>"
            f"<p>size {_text(trigger.get('size'))} ({_text(trigger.get('unit'))}), success rate "
            f"{_text(trigger.get('attack_success_rate'))}</p>"
        )
        tokens = trigger.get("tokens")
        if isinstance(tokens, list) and tokens:
            shown = "".join(f"<code>{escape(str(t))}</code>" for t in tokens[:50])
            parts.append(f"<div class='tokens' id='trigger-tokens'>recovered trigger tokens: {shown}</div>")
        pictures = "".join(_figure(uri, str(name)) for name, uri in images.items())
        if pictures:
            parts.append(f"<div class='gallery' id='trigger-images'>{pictures}</div>")
    per_class = _dicts(b.get("per_class"))
    families = [str(f.get("family")) for f in _dicts(b.get("families"))] or sorted(
        {k for row in per_class for k, v in row.items() if isinstance(v, Mapping)}
    )
    charts: list[str] = []
    galleries: list[str] = []
    units = {str(f.get("family")): str(f.get("unit", "")) for f in _dicts(b.get("families"))}
    for family in families:
        bars: list[Bar] = []
        figures: list[str] = []
        for row in per_class:
            entry = row.get(family)
            if not isinstance(entry, Mapping) or not isinstance(entry.get("size"), int | float):
                continue
            label = (
                f"{row.get('class')} ({row.get('label')})"
                if str(row.get("label")) != str(row.get("class"))
                else str(row.get("class"))
            )
            is_suspect = row.get("class") == suspect
            bars.append(
                Bar(
                    label,
                    float(entry["size"]),
                    is_suspect,
                    "" if entry.get("reached", True) else "not reached",
                )
            )
            figures.append(_figure(entry.get("image"), f"class {label}", suspect=is_suspect))
        if bars:
            charts.append(
                bar_chart(bars, title=f"{family}: trigger size per class", unit=units.get(family) or "size")
            )
        if any(figures):
            galleries.append(f"<h4>{escape(family)}</h4><div class='gallery'>{''.join(figures)}</div>")
    if charts:
        parts.append(
            f"<h3>Trigger size per class</h3><div class='charts' id='trigger-size-charts'>{''.join(charts)}</div>"
        )
    if galleries:
        parts.append(
            f"<h3>Reversed triggers per class</h3><div id='class-triggers'>{''.join(galleries)}</div>"
        )
    return "".join(parts)


def _activation(a: Mapping[str, Any]) -> str:
    rows = [
        [
            escape(f"{c.get('class')} ({c.get('name')})"),
            _text(c.get("size")),
            "<b>yes</b>" if c.get("poisoned") else "no",
            _text(c.get("suspects")),
            _text(c.get("separation")),
            _text(c.get("ratio")),
        ]
        for c in _dicts(a.get("classes"))
    ]
    return (
        "<h3>Activation clustering of the sample</h3>"
        f"<p>{_text(a.get('method'))}; threshold {_text(a.get('threshold'))}; suspect classes "
        f"{_text(a.get('suspect_classes'))}</p>"
        + _table(["class", "size", "poisoned", "suspects", "separation", "ratio"], rows)
    )


# ------------------------------------------------------------------------------------------------ data


def data_section(d: Mapping[str, Any]) -> str:
    from airlock.render.table import reversal_summary

    reversal = reversal_summary(d.get("behavior"))
    flagged = _list(d.get("flagged"))
    inconsistent = _list(d.get("label_inconsistent"))
    parts = [
        "<section id='data'><h2>Data scan</h2>",
        _facts(
            [
                ("rows", _text(d.get("rows"))),
                ("kind", _text(d.get("kind"))),
                ("feature space", _text(d.get("feature_space"))),
                *([("poisoning", _text(d["poisoning"]))] if "poisoning" in d else []),
                ("suspect classes", _text(d.get("suspect_classes"))),
                ("flagged samples", f"<span id='flagged-count'>{len(flagged)}</span>"),
                ("label-inconsistent samples", str(len(inconsistent))),
                ("method", _text(d.get("method"))),
                *([("trigger reversal", _text(reversal))] if reversal else []),
            ]
        ),
    ]
    thumbs = _dicts(d.get("thumbnails"))
    if thumbs:
        figures = "".join(
            _figure(
                t.get("image"),
                f"row {t.get('row')}, label {t.get('label_name', t.get('label'))}, score {t.get('score')}",
            )
            for t in thumbs
        )
        parts.append(
            f"<h3>Flagged samples</h3><p class='muted'>the {len(thumbs)} most suspect of {len(flagged)} flagged</p>"
            f"<div class='gallery' id='thumbnails'>{figures}</div>"
        )
    parts.append(_histograms(d))
    classes = _dicts(d.get("classes"))
    if classes:
        rows = [
            [
                escape(f"{c.get('class')} ({c.get('name')})"),
                _text(c.get("size")),
                "<b>yes</b>" if c.get("poisoned") else "no",
                _text(c.get("suspects")),
                _text(c.get("separation")),
                _text(c.get("disagreement_gap")),
            ]
            for c in classes
        ]
        parts.append(
            "<h3>Classes</h3>"
            + _table(["class", "size", "poisoned", "suspects", "separation", "disagreement gap"], rows)
        )
    parts.append(_contamination(d.get("contamination")))
    parts.append(_leakage(d))
    parts.append(_privacy(d))
    parts.append("</section>")
    return "".join(parts)


def _histograms(d: Mapping[str, Any]) -> str:
    histograms = _dicts(d.get("score_histograms"))
    if not histograms:
        return ""
    thresholds = _mapping(d.get("thresholds"))
    flag_at = thresholds.get("flag_at")
    threshold = float(flag_at) if isinstance(flag_at, int | float) else None
    names = {c.get("class"): c.get("name") for c in _dicts(d.get("classes"))}
    suspects = d.get("suspect_classes") or []
    charts = "".join(
        histogram(
            [int(n) for n in h.get("counts", []) if isinstance(n, int)],
            title=f"class {h.get('class')} ({names.get(h.get('class'), '?')})"
            + (" — suspect" if h.get("class") in suspects else ""),
            threshold=threshold,
            alarm=h.get("class") in suspects,
        )
        for h in histograms
    )
    return (
        "<h3>Poisoning scores per class</h3><p class='muted'>rows per score bin (0 to 1); the dashed line is "
        f"the flagging threshold {_text(threshold)}, which applies in the classes the scan called poisoned "
        "(their bins past it in red)</p>"
        f"<div class='charts' id='score-histograms'>{charts}</div>"
    )


def _contamination(c: Any) -> str:
    if not isinstance(c, Mapping):
        return ""
    rows = []
    for split in ("train", "test"):
        part = c.get(split)
        if not isinstance(part, Mapping):
            continue
        for kind in ("exact", "near"):
            pairs = _list(part.get(f"{kind}_pairs"))
            shown = ", ".join(
                f"({p[0]}, {p[1]})" for p in pairs[:MAX_PAIRS] if isinstance(p, list) and len(p) == 2
            )
            more = f" … {len(pairs) - MAX_PAIRS} more" if len(pairs) > MAX_PAIRS else ""
            where = "within train" if split == "train" else "train ↔ test"
            rows.append(
                [
                    escape(where),
                    escape(kind),
                    _text(part.get(kind)),
                    f"<code>{escape(shown)}</code>{escape(more)}",
                ]
            )
    method = _text(c.get("near_method"))
    return (
        f"<h3>Contamination</h3><p class='muted'>near duplicates by {method}; pairs are (train row, other row)</p>"
        + _table(["where", "kind", "pairs", "first pairs"], rows, "contamination")
    )


def _leakage(d: Mapping[str, Any]) -> str:
    parts: list[str] = []
    leakage = _dicts(d.get("leakage"))
    if leakage:
        rows = [
            [
                f"<code>{escape(str(x.get('column')))}</code>",
                _text(x.get("kind")),
                _text(x.get("auc")),
                _text(x.get("distinct")),
            ]
            for x in leakage
        ]
        parts.append(
            "<h3>Leakage columns</h3>"
            + _table(["column", "kind", "AUC alone", "distinct values"], rows, "leakage")
        )
    excluded = _mapping(_mapping(d.get("columns")).get("excluded"))
    if excluded:
        rows = [[f"<code>{escape(str(k))}</code>", _text(v)] for k, v in excluded.items()]
        parts.append("<h4>Columns left out of the features</h4>" + _table(["column", "why"], rows))
    return "".join(parts)


def _privacy(d: Mapping[str, Any]) -> str:
    parts: list[str] = []
    privacy = _dicts(d.get("privacy"))
    if privacy:
        rows = [
            [
                f"<code>{escape(str(p.get('column')))}</code>",
                _text(p.get("kind")),
                _text(p.get("count")),
                _text(p.get("rows")),
                "<code>" + escape(", ".join(str(e) for e in (p.get("examples") or [])[:5])) + "</code>",
            ]
            for p in privacy
        ]
        parts.append(
            "<h3>Personal data (masked)</h3>"
            + _table(["column", "kind", "values", "rows", "masked examples"], rows, "privacy")
        )
    k = d.get("k_anonymity")
    if isinstance(k, Mapping):
        parts.append(
            f"<p id='k-anonymity'>k-anonymity over {_text(k.get('columns'))}: {_text(k.get('rows_below_k'))} row(s) in "
            f"{_text(k.get('groups_below_k'))} group(s) smaller than k={_text(k.get('k'))} "
            f"(smallest group {_text(k.get('smallest_group'))})</p>"
        )
    return "".join(parts)
