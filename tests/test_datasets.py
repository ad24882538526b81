"""Datasets: the IDX reader, MNIST loading and downloading (from a local server), the bundled digits, helpers."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v1sim import datasets
from v1sim.datasets import (
    DownloadError,
    batches,
    load_dataset,
    load_digits,
    load_mnist,
    pad_to,
    read_idx,
)
from v1sim.datasets import mnist as mnist_files
from v1sim.datasets.digits import build_embedded

REPO = Path(__file__).resolve().parents[1]


def _shared_mnist() -> Path | None:
    """The original MNIST files in shared/ (inside the checkout or beside it), if present."""
    for base in (REPO / "shared", REPO.parent / "shared", Path(__file__).resolve().parents[2] / "shared"):
        d = base / "data" / "mnist"
        if all((d / name).is_file() for name in datasets.MNIST_SHA256):
            return d
    return None


SHARED_MNIST = _shared_mnist()


@pytest.fixture(scope="module")
def shared_mnist():
    if SHARED_MNIST is None:
        pytest.skip("shared/data/mnist (the original MNIST files) is not present")
    return SHARED_MNIST


@pytest.fixture(scope="module")
def mnist_uint8(shared_mnist):
    """Raw uint8 arrays of the four shared MNIST files, read once per module."""
    return {
        split: tuple(read_idx(shared_mnist / f"{stem}.gz") for stem in datasets.MNIST_FILES[split])
        for split in ("train", "test")
    }


# --- a tiny IDX writer, independent of the reader -------------------------------------------------


def idx_bytes(arr, *, magic: bytes | None = None) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    head = magic if magic is not None else bytes([0, 0, 0x08, arr.ndim])
    return head + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def write(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def fake_mnist(n: int = 7, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_fake_mnist(directory: Path, *, gz: bool = True, dotted: bool = False) -> dict:
    """All four MNIST files (small) in ``directory``; returns {split: (images, labels)}."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for seed, split in enumerate(("train", "test")):
        images, labels = fake_mnist(9 if split == "train" else 5, seed)
        for stem, arr in zip(datasets.MNIST_FILES[split], (images, labels)):
            name = stem.replace("-idx", ".idx", 1) if dotted else stem
            write(directory / (name + ".gz" if gz else name), idx_bytes(arr), gz=gz)
        out[split] = (images, labels)
    return out


# --- read_idx ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("shape", [(5, 28, 28), (3, 4, 6), (11,), (0, 28, 28)])
def test_read_idx_round_trip(tmp_path, gz, shape):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    got = read_idx(write(tmp_path / "f", idx_bytes(arr), gz=gz))
    assert got.dtype == np.uint8 and got.shape == shape
    np.testing.assert_array_equal(got, arr)
    got[...] = 0  # a fresh writeable array


def test_read_idx_detects_gzip_by_magic_bytes_not_suffix(tmp_path):
    images, labels = fake_mnist()
    np.testing.assert_array_equal(read_idx(write(tmp_path / "images.raw", idx_bytes(images), gz=True)), images)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "labels.gz", idx_bytes(labels), gz=False)), labels)


def test_read_idx_accepts_str_paths(tmp_path):
    labels = fake_mnist()[1]
    np.testing.assert_array_equal(read_idx(str(write(tmp_path / "l", idx_bytes(labels)))), labels)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_read_idx_truncated_payload_names_file_and_byte_counts(tmp_path, gz):
    images = fake_mnist(4)[0]
    path = write(tmp_path / "short-images", idx_bytes(images)[:-100], gz=gz)
    with pytest.raises(ValueError, match="truncated") as info:
        read_idx(path)
    msg = str(info.value)
    assert str(path) in msg and "expected" in msg and str(4 * 784) in msg and str(4 * 784 - 100) in msg


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_read_idx_trailing_bytes_are_an_error_not_ignored(tmp_path, gz):
    labels = fake_mnist(6)[1]
    path = write(tmp_path / "long-labels", idx_bytes(labels) + b"\x00\x01\x02", gz=gz)
    with pytest.raises(ValueError, match="3 trailing byte") as info:
        read_idx(path)
    assert str(path) in str(info.value) and "expected 6" in str(info.value) and "received 9" in str(info.value)


def test_read_idx_truncated_header(tmp_path):
    data = idx_bytes(fake_mnist(2)[0])
    with pytest.raises(ValueError, match=r"truncated IDX header: expected 16 bytes, received 10"):
        read_idx(write(tmp_path / "h", data[:10]))
    with pytest.raises(ValueError, match="magic number is missing"):
        read_idx(write(tmp_path / "e", b"\x00\x00"))


@pytest.mark.parametrize(
    "magic, match",
    [
        (b"\x12\x34\x08\x03", r"magic number 0x12340803, expected 0x00000803 \(images\) or 0x00000801"),
        (b"PK\x03\x04", "not an IDX file"),  # e.g. a zip archive
        (b"\x00\x00\x0d\x03", r"data type byte 0x0D \(float32\).*expected 0x08 \(unsigned byte\)"),
        (b"\x00\x00\x0b\x01", r"data type byte 0x0B \(int16\)"),
        (b"\x00\x00\x08\x02", r"2 dimension\(s\).*expected 3 \(images"),
    ],
    ids=["wrong-magic", "zip", "float32-dtype", "int16-dtype", "2-d"],
)
def test_read_idx_bad_magic_dtype_or_ndim(tmp_path, magic, match):
    arr = np.zeros((2, 3, 4) if magic[3] == 3 else (6,) if magic[3] == 1 else (4, 5), np.uint8)
    path = write(tmp_path / "bad", idx_bytes(arr, magic=magic), gz=True)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_corrupt_or_truncated_gzip(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(fake_mnist(20)[0]), mtime=0))
    cut = write(tmp_path / "cut.gz", bytes(blob[: len(blob) // 2]))
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as info:
        read_idx(cut)
    assert str(cut) in str(info.value)
    blob[len(blob) // 2 : len(blob) // 2 + 40] = bytes(40)  # garbage in the middle of the deflate stream
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(write(tmp_path / "garbled.gz", bytes(blob)))
    crc = bytearray(gzip.compress(idx_bytes(fake_mnist(3)[1]), mtime=0))
    crc[-8] ^= 0xFF  # the CRC-32 in the trailer
    with pytest.raises(ValueError, match="gzip.*CRC"):
        read_idx(write(tmp_path / "crc.gz", bytes(crc)))


def test_read_idx_missing_file_and_bad_path_type(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
    with pytest.raises(TypeError, match="path"):
        read_idx(3)


# --- load_mnist from local files ----------------------------------------------------------------


@pytest.mark.parametrize("gz, dotted", [(True, False), (False, False), (False, True), (True, True)])
def test_load_mnist_finds_every_standard_file_name(tmp_path, gz, dotted):
    fake = write_fake_mnist(tmp_path, gz=gz, dotted=dotted)
    for split in ("train", "test"):
        images, labels = load_mnist(tmp_path, split=split)
        assert images.dtype == np.float32 and images.shape == (len(fake[split][0]), 1, 28, 28)
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(images[:, 0], fake[split][0] / np.float32(255))
        np.testing.assert_array_equal(labels, fake[split][1])


def test_load_mnist_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("V1SIM_DATA", str(tmp_path / "cache-root"))
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path / "empty", split="test")
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte" in msg and "--data-dir DIR" in msg and "download=True" in msg
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "cache-root" / "mnist")):
        load_mnist()  # no data_dir: looks in the cache


def test_load_mnist_image_and_label_counts_must_agree(tmp_path):
    write_fake_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(3, np.uint8)), gz=True)
    with pytest.raises(ValueError, match="5 images.*3 labels"):
        load_mnist(tmp_path, split="test")


def test_load_mnist_swapped_files_are_refused(tmp_path):
    write_fake_mnist(tmp_path)
    images = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(images)
    with pytest.raises(ValueError, match="expected a labels file"):
        load_mnist(tmp_path, split="test")


def test_load_mnist_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")
    with pytest.raises(TypeError, match="data_dir"):
        load_mnist(123)
    with pytest.raises(TypeError, match="download"):
        load_mnist(tmp_path, download="yes")


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("V1SIM_DATA", str(tmp_path))
    assert datasets.default_cache_dir() == tmp_path / "mnist"
    monkeypatch.delenv("V1SIM_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.default_cache_dir() == tmp_path / "xdg" / "v1sim" / "mnist"


# --- the real MNIST in shared/ ------------------------------------------------------------------


def test_shared_mnist_files_match_published_checksums(shared_mnist):
    for name, digest in datasets.MNIST_SHA256.items():
        assert hashlib.sha256((shared_mnist / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_load_mnist_real_files(shared_mnist, split, n):
    images, labels = load_mnist(shared_mnist, split=split)
    assert images.shape == (n, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels).min() > n // 20  # every digit well represented


# --- downloading, from a local server only ---------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's directory; paths under /cut/ send half of a file and hang up."""

    def do_GET(self):
        if self.path.startswith("/cut/"):
            data = Path(self.directory, self.path[len("/cut/") :]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving tmp_path/www: mirror 'good/' holds a fake MNIST."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    www = tmp_path / "www"
    fake = write_fake_mnist(www / "good")
    (www / "bad").mkdir()
    for name in datasets.MNIST_SHA256:  # same names, wrong content
        (www / "bad" / name).write_bytes(b"\x1f\x8b not the file you want")
    digests = {name: hashlib.sha256((www / "good" / name).read_bytes()).hexdigest() for name in datasets.MNIST_SHA256}
    monkeypatch.setattr(mnist_files, "MNIST_SHA256", digests)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield base, fake, digests
    httpd.shutdown()
    httpd.server_close()


def _dead_url() -> str:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_download_lands_verified_files_in_cache_dir(server, tmp_path, monkeypatch):
    base, fake, digests = server
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", (base + "good/",))
    cache = tmp_path / "cache"
    images, labels = load_mnist(download=True, cache_dir=cache, split="test")
    np.testing.assert_array_equal(labels, fake["test"][1])
    np.testing.assert_array_equal(images[:, 0] * 255, fake["test"][0])
    assert _files(cache) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]  # no .part left
    for name in _files(cache):
        assert hashlib.sha256((cache / name).read_bytes()).hexdigest() == digests[name]
    # now cached: found without the network, by cache_dir and via V1SIM_DATA
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", ())
    np.testing.assert_array_equal(load_mnist(cache_dir=cache, split="test")[1], labels)
    monkeypatch.setenv("V1SIM_DATA", str(tmp_path))
    (tmp_path / "cache").rename(tmp_path / "mnist")
    np.testing.assert_array_equal(load_mnist(split="test")[1], labels)


def test_download_with_data_dir_missing_files_goes_to_cache(server, tmp_path, monkeypatch):
    base, fake, _ = server
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", (base + "good/",))
    data_dir, cache = tmp_path / "mine", tmp_path / "cache"
    data_dir.mkdir()
    _, labels = load_dataset("mnist", "train", data_dir, True, cache_dir=cache)
    np.testing.assert_array_equal(labels, fake["train"][1])
    assert _files(data_dir) == [] and len(_files(cache)) == 2


def test_download_falls_back_to_the_next_mirror(server, tmp_path, monkeypatch):
    base, fake, _ = server
    mirrors = (_dead_url(), base + "missing/", base + "cut/good/", base + "bad/", base + "good/")
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", mirrors)
    cache = tmp_path / "cache"
    _, labels = load_mnist(download=True, cache_dir=cache, split="train")
    np.testing.assert_array_equal(labels, fake["train"][1])
    assert _files(cache) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_download_wrong_checksum_raises_and_leaves_no_file(server, tmp_path, monkeypatch):
    base, _, digests = server
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", (base + "good/",))
    monkeypatch.setattr(mnist_files, "MNIST_SHA256", {k: "0" * 64 for k in digests})
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="SHA-256 mismatch: expected 0{64}, received [0-9a-f]{64}") as info:
        load_mnist(download=True, cache_dir=cache, split="test")
    assert "no file was written" in str(info.value)
    assert _files(cache) == []


def test_download_every_mirror_failing_lists_each_reason(server, tmp_path, monkeypatch):
    base, _, _ = server
    monkeypatch.setattr(mnist_files, "MNIST_MIRRORS", (_dead_url(), base + "missing/", base + "cut/good/"))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        load_mnist(download=True, cache_dir=cache, split="test")
    msg = str(info.value)
    assert "refused" in msg.lower() and "404" in msg and "incomplete transfer" in msg, msg
    assert _files(cache) == []  # the interrupted transfer left nothing behind
    assert isinstance(info.value, OSError)


# --- the bundled digits ---------------------------------------------------------------------------


@pytest.mark.parametrize("split, n", [("train", 5000), ("test", 1000)])
def test_load_digits_shapes_range_balance(split, n):
    images, labels = load_digits(split)
    assert images.shape == (n, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, n // 10))
    assert images.flags.writeable and images.flags.c_contiguous


def test_load_digits_is_deterministic_and_hands_out_fresh_arrays():
    a, la = load_digits("test")
    a[...] = -1
    la[...] = 99
    b, lb = load_digits("test")
    c, lc = load_digits("test")
    assert b.min() == 0.0 and lb.max() == 9
    np.testing.assert_array_equal(b, c)
    np.testing.assert_array_equal(lb, lc)


def test_digits_file_is_small_plain_and_records_provenance():
    path = REPO / "v1sim" / "data" / "digits.npz"
    assert path.stat().st_size <= 2.5e6
    with np.load(path, allow_pickle=False) as npz:
        assert [str(s) for s in npz["source_sha256"]] == [datasets.MNIST_SHA256[str(f)] for f in npz["source_files"]]
        assert "LeCun" in str(npz["citation"]) and "CC BY-SA 3.0" in str(npz["citation"])
        assert int(npz["seed"]) >= 0
        for split, n in (("train", 60000), ("test", 10000)):
            idx = npz[f"{split}_indices"]
            assert len(np.unique(idx)) == len(idx) and idx.min() >= 0 and idx.max() < n
            assert npz[f"{split}_images"].dtype == np.uint8


def test_digits_are_real_mnist(mnist_uint8):
    with np.load(REPO / "v1sim" / "data" / "digits.npz", allow_pickle=False) as npz:
        for split in ("train", "test"):
            mnist_images, mnist_labels = mnist_uint8[split]
            idx = npz[f"{split}_indices"]
            np.testing.assert_array_equal(npz[f"{split}_images"], mnist_images[idx])
            np.testing.assert_array_equal(npz[f"{split}_labels"], mnist_labels[idx])
    # independent of the stored indices: every embedded test image is one of MNIST's test images
    known = {img.tobytes() for img in mnist_uint8["test"][0]}
    images, _ = load_digits("test")
    assert all((np.rint(img[0] * 255).astype(np.uint8)).tobytes() in known for img in images)


def test_digits_builder_reproduces_the_shipped_file(shared_mnist, tmp_path):
    out = build_embedded(shared_mnist, tmp_path / "digits.npz")
    with np.load(out, allow_pickle=False) as new, np.load(REPO / "v1sim/data/digits.npz", allow_pickle=False) as old:
        assert sorted(new.files) == sorted(old.files)
        for key in old.files:
            np.testing.assert_array_equal(new[key], old[key], err_msg=key)


# --- load_dataset ---------------------------------------------------------------------------------


def test_load_dataset_digits_is_the_default():
    images, labels = load_dataset()
    np.testing.assert_array_equal(labels, load_digits("train")[1])
    assert images.shape == (5000, 1, 28, 28)
    assert load_dataset("digits", "test")[0].shape == (1000, 1, 28, 28)


def test_load_dataset_mnist_reads_data_dir(tmp_path):
    fake = write_fake_mnist(tmp_path)
    np.testing.assert_array_equal(load_dataset("mnist", "test", data_dir=tmp_path)[1], fake["test"][1])


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(name="cifar10"),
            ValueError,
            "name must be one of 'digits', 'mnist', 'fashion-mnist', 'images'; got 'cifar10'",
        ),
        (dict(name="MNIST"), ValueError, "name"),
        (dict(name=None), TypeError, "name"),
        (dict(split="val"), ValueError, "split must be one of 'train', 'test'"),
        (dict(name="mnist", split="valid"), ValueError, "split"),
        (dict(data_dir="/tmp"), ValueError, "data_dir only apply to name='mnist'"),
        (dict(download=True), ValueError, "download"),
    ],
)
def test_load_dataset_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load_dataset(**kwargs)


def test_load_digits_bad_split():
    with pytest.raises(ValueError, match="split"):
        load_digits("validation")


# --- pad_to ---------------------------------------------------------------------------------------


def test_pad_to_centres_28_in_32_with_zeros():
    x = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32) + 0.5
    before = x.copy()
    y = pad_to(x, 32)
    assert y.shape == (3, 1, 32, 32) and y.dtype == np.float32
    np.testing.assert_array_equal(y[..., 2:30, 2:30], x)
    assert np.count_nonzero(y) == x.size  # everything else is zero
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "shape, size, out_shape, offset",
    [
        ((28, 28), 32, (32, 32), (2, 2)),
        ((4, 28, 28), (32, 30), (4, 32, 30), (2, 1)),
        ((5, 6), (8, 7), (8, 7), (1, 0)),  # odd difference: the extra row/column goes bottom/right
        ((2, 1, 5, 5), 5, (2, 1, 5, 5), (0, 0)),
    ],
)
def test_pad_to_shapes(shape, size, out_shape, offset):
    x = np.arange(1, np.prod(shape) + 1, dtype=np.float64).reshape(shape)
    y = pad_to(x, size)
    assert y.shape == out_shape and y.dtype == np.float64
    r, c = offset
    np.testing.assert_array_equal(y[..., r : r + shape[-2], c : c + shape[-1]], x)
    assert y.sum() == x.sum()
    assert y is not x


@pytest.mark.parametrize(
    "images, size, exc, match",
    [
        (np.zeros((1, 1, 28, 28)), 27, ValueError, r"size must be at least the image size \(28, 28\); got \(27, 27\)"),
        (np.zeros((28, 28)), (32, 20), ValueError, "size"),
        (np.zeros((28, 28)), 0, ValueError, "size"),
        (np.zeros((28, 28)), 32.0, TypeError, "size"),
        (np.zeros(28), 32, ValueError, "images"),
        (np.zeros((28, 28), complex), 32, TypeError, "images"),
    ],
)
def test_pad_to_bad_input(images, size, exc, match):
    with pytest.raises(exc, match=match):
        pad_to(images, size)


# --- batches --------------------------------------------------------------------------------------


def _coded(n: int):
    """Images whose pixels encode their sample index, with labels equal to it."""
    x = np.repeat(np.arange(n, dtype=np.float32), 4).reshape(n, 1, 2, 2)
    return x, np.arange(n)


def test_batches_in_order_without_shuffle():
    x, y = _coded(10)
    got = list(batches(x, y, 4))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), y)
    assert [len(b[1]) for b in batches(x, y, 4, drop_last=True)] == [4, 4]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 17), seed=st.integers(0, 2**32 - 1))
def test_batches_cover_every_sample_once_and_keep_pairs(n, batch_size, seed):
    x, y = _coded(n)
    seen = []
    for xb, yb in batches(x, y, batch_size, shuffle=True, rng=seed):
        assert 1 <= len(yb) <= batch_size and xb.shape[1:] == (1, 2, 2)
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb)  # image and label stay together
        seen.append(yb)
    all_seen = np.concatenate(seen) if seen else np.array([], int)
    np.testing.assert_array_equal(np.sort(all_seen), np.arange(n))


def test_batches_deterministic_under_a_seed():
    x, y = _coded(50)
    run = lambda rng: np.concatenate([b[1] for b in batches(x, y, 8, shuffle=True, rng=rng)])  # noqa: E731
    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))
    assert not np.array_equal(run(7), y)
    gen = np.random.default_rng(3)
    first, second = run(gen), run(gen)  # one Generator across epochs: a new order each epoch
    assert not np.array_equal(first, second)
    gen = np.random.default_rng(3)
    np.testing.assert_array_equal(run(gen), first)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.zeros((4, 1, 2, 2)), np.zeros(4, int), 0), {}, ValueError, "batch_size must be a positive integer"),
        ((np.zeros((4, 1, 2, 2)), np.zeros(4, int), -3), {}, ValueError, "batch_size"),
        ((np.zeros((4, 1, 2, 2)), np.zeros(4, int), 2.5), {}, TypeError, "batch_size"),
        ((np.zeros((4, 1, 2, 2)), np.zeros(3, int), 2), {}, ValueError, "labels must have one entry per image"),
        ((np.zeros((4, 1, 2, 2)), np.zeros(4), 2), {}, TypeError, "labels must be an integer"),
        ((np.zeros((4, 1, 2, 2)), np.zeros((4, 1), int), 2), {}, ValueError, "labels"),
        ((np.zeros((4, 1, 2, 2)), np.zeros(4, int), 2), {"rng": "seed"}, TypeError, "rng"),
        ((np.full((4, 1, 2, 2), np.nan), np.zeros(4, int), 2), {}, ValueError, "images"),
    ],
)
def test_batches_bad_input_raises_at_call_time(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        batches(*args, **kwargs)  # no next(): checked before the first batch


def test_public_api():
    assert set(datasets.__all__) >= {"read_idx", "load_mnist", "load_digits", "load_dataset", "pad_to", "batches"}
    for name in datasets.__all__:
        assert getattr(datasets, name).__doc__ or name.isupper()
