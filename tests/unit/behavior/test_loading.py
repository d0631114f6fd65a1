"""Loading classifiers for the behavioural scan without running anything that ships with them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from airlock.errors import ArchRefused, MissingDependency, ModelRefused, RemoteCodeRefused
from airlock.models.classifier import load_classifier
from airlock.models.image import ImageClassifier
from airlock.models.text import TextClassifier

pytestmark = pytest.mark.torch


def _resnet(folder: Path) -> Path:
    config = transformers.ResNetConfig(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        layer_type="basic",
        num_labels=3,
    )
    transformers.ResNetForImageClassification(config).save_pretrained(folder, safe_serialization=True)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.25, 0.25, 0.25],
                "size": {"height": 16, "width": 16},
            }
        )
    )
    return folder


def _edit(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_stock_image_classifier_is_frozen_and_normalises_inside(tmp_path: Path) -> None:
    clf = load_classifier(_resnet(tmp_path), "resnet")
    assert isinstance(clf, ImageClassifier)
    assert clf.architecture == "ResNetForImageClassification"
    assert clf.size == (16, 16) and clf.classes == 3
    assert not any(p.requires_grad for p in clf.module.parameters())
    assert clf.std.flatten().tolist() == [0.25, 0.25, 0.25]
    x = torch.rand(2, 3, 16, 16)
    assert clf(x).shape == (2, 3)
    assert clf.features(x).shape == (2, 16)


def test_vit_reads_its_input_size_from_the_config(tmp_path: Path) -> None:
    config = transformers.ViTConfig(
        image_size=16,
        patch_size=4,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=4,
    )
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path, safe_serialization=True)
    clf = load_classifier(tmp_path, "vit")
    assert isinstance(clf, ImageClassifier) and clf.size == (16, 16)
    assert clf(torch.rand(1, 3, 16, 16)).shape == (1, 4)


def test_stock_text_classifier_reads_tokenizer_json(tmp_path: Path) -> None:
    from fixtures.backdoored_text import TOPICS, tokenizer, vocabulary

    config = transformers.BertConfig(
        vocab_size=len(vocabulary()),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=len(TOPICS),
    )
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path, safe_serialization=True)
    tokenizer().save_pretrained(tmp_path)  # type: ignore[attr-defined]
    clf = load_classifier(tmp_path, "bert")
    assert isinstance(clf, TextClassifier)
    ids, mask = clf.encode(["the goal was a match", "rain"])
    assert ids.shape == mask.shape and ids[0, 0] == clf.tokenizer.token_to_id("[CLS]")
    assert clf.tokenizer.token_to_id("[PAD]") in clf.special
    assert clf.logits(ids, mask).shape == (2, len(TOPICS))


@pytest.mark.parametrize("name", ["config.json", "tokenizer_config.json"])
def test_remote_code_is_refused_before_anything_is_built(tmp_path: Path, name: str) -> None:
    _resnet(tmp_path)
    target = tmp_path / name
    if not target.exists():
        target.write_text("{}")
    _edit(target, auto_map={"AutoModel": "modeling_evil.EvilModel"})
    with pytest.raises(RemoteCodeRefused, match="auto_map"):
        load_classifier(tmp_path, "evil")


def test_unknown_architecture_points_at_arch(tmp_path: Path) -> None:
    _resnet(tmp_path)
    _edit(tmp_path / "config.json", model_type="mystery", architectures=["MysteryNet"])
    with pytest.raises(ModelRefused, match="--arch module:factory"):
        load_classifier(tmp_path, "mystery")


def test_missing_transformers_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _resnet(tmp_path)
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependency, match=r"pip install 'model-airlock\[behavior\]'"):
        load_classifier(tmp_path, "resnet")


def test_pickle_weights_only_after_the_static_scan_passed(tmp_path: Path) -> None:
    folder = _resnet(tmp_path)
    state = transformers.ResNetForImageClassification.from_pretrained(folder).state_dict()
    (folder / "model.safetensors").unlink()
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(ModelRefused, match="did not pass the static scan"):
        load_classifier(folder, "pickled")
    assert isinstance(load_classifier(folder, "pickled", pickle_allowed=True), ImageClassifier)


def test_weights_of_another_shape_are_refused(tmp_path: Path) -> None:
    _resnet(tmp_path)
    _edit(tmp_path / "config.json", hidden_sizes=[8, 32])
    with pytest.raises(ModelRefused, match="weights do not"):
        load_classifier(tmp_path, "mismatch")


def tiny_factory(config: dict[str, Any]) -> torch.nn.Module:
    """An `--arch` factory: a flatten + linear classifier for 3×4×4 images."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, int(config["num_labels"])))


def test_arch_factory_builds_the_module_the_weights_load_into(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "homegrown", "num_labels": 5}))
    save_file(tiny_factory({"num_labels": 5}).state_dict(), str(tmp_path / "model.safetensors"))
    clf = load_classifier(tmp_path, "custom", arch=f"{__name__}:tiny_factory")
    assert isinstance(clf, ImageClassifier) and clf.architecture == "custom"
    assert clf(torch.rand(2, 3, 4, 4)).shape == (2, 5)


@pytest.mark.parametrize(
    "spec, why",
    [
        ("no_colon", "must look like"),
        ("no.such.module:f", "(?i)no module named"),
        (f"{__name__}:missing", "no callable"),
    ],
)
def test_bad_arch_specs_are_refused(tmp_path: Path, spec: str, why: str) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"num_labels": 2}))
    with pytest.raises(ArchRefused, match=why):
        load_classifier(tmp_path, "custom", arch=spec)


def test_arch_code_shipped_inside_the_model_is_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = tmp_path / "imported"
    (tmp_path / "config.json").write_text(json.dumps({"num_labels": 2}))
    (tmp_path / "shipped_arch.py").write_text(
        f"open({str(canary)!r}, 'w').close()\ndef build(config): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ArchRefused, match="ships with the scanned model"):
        load_classifier(tmp_path, "custom", arch="shipped_arch:build")
    assert not canary.exists()
