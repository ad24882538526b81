"""Datasets beyond the digits: natural-image patches, image folders, Fashion-MNIST, augmentation."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from v1sim import datasets, efficient_coding
from v1sim.datasets import (
    DownloadError,
    augment,
    load_dataset,
    load_fashion_mnist,
    load_image_folder,
    load_labelled_folder,
    natural_images,
    natural_patches,
    whiten,
)
from v1sim.datasets import fashion as fashion_files
from v1sim.errors import InputError

REPO = Path(__file__).resolve().parents[1]

# --- natural images and patches ----------------------------------------------------------------


def test_bundled_natural_images_are_grey_float64_in_unit_range():
    images = natural_images()
    assert len(images) == len(datasets.NATURAL_IMAGES) == 9
    for img in images:
        assert img.ndim == 2 and img.dtype == np.float64 and min(img.shape) >= 256
        assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.05


def test_patches_are_deterministic_for_a_seed_and_differ_across_seeds():
    a, b, c = (natural_patches(200, 12, rng=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == (200, 12, 12) and a.dtype == np.float64
    np.testing.assert_allclose(a.mean(axis=(1, 2)), 0.0, atol=1e-12)  # each patch's own mean removed
    # a Generator passed twice gives fresh patches; the same seed again gives the first ones back
    g = np.random.default_rng(7)
    first, second = natural_patches(200, 12, rng=g), natural_patches(200, 12, rng=g)
    np.testing.assert_array_equal(first, a)
    assert not np.allclose(first, second)


def test_patches_are_mean_removed_crops_of_the_log_images():
    rng = np.random.default_rng(0)
    img = rng.random((30, 40))
    patches = natural_patches(50, 6, images=[img], log=True, rng=3)
    logged = np.log1p(255.0 * img)
    # an oracle: every patch is some 6 x 6 window of log(1 + 255 I), less its mean
    windows = np.lib.stride_tricks.sliding_window_view(logged, (6, 6)).reshape(-1, 6, 6)
    windows = windows - windows.mean(axis=(1, 2), keepdims=True)
    for p in patches:
        assert np.abs(windows - p).max(axis=(1, 2)).min() < 1e-12


def test_bundled_names_and_arrays_give_the_same_patches():
    by_name = natural_patches(60, 8, rng=1)
    by_array = natural_patches(60, 8, images=natural_images(), rng=1)
    np.testing.assert_array_equal(by_name, by_array)


def test_efficient_coding_reexports_the_one_patch_sampler():
    assert efficient_coding.natural_patches is datasets.natural_patches
    assert efficient_coding.NATURAL_IMAGES is datasets.NATURAL_IMAGES
    assert datasets.natural_patches.__module__ == "v1sim.datasets.natural"


def test_whiten_matches_a_full_fft_oracle_and_passes_a_grating_unchanged():
    rng = np.random.default_rng(2)
    x = rng.random((2, 24, 20))
    got = whiten(x, cutoff=0.3)
    # oracle: the same filter on the full (not real) FFT grid
    f = np.hypot(np.fft.fftfreq(24)[:, None], np.fft.fftfreq(20)[None, :])
    ref = np.real(np.fft.ifft2(np.fft.fft2(x) * f * np.exp(-((f / 0.3) ** 4))))
    ref = (ref - ref.mean(axis=(1, 2), keepdims=True)) / ref.std(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got, ref, atol=1e-10)
    assert got.shape == x.shape
    # a grating of one frequency is only scaled by the filter: after normalising, it is itself
    yy, xx = np.mgrid[:32, :32]
    grating = np.cos(2 * np.pi * (3 * xx + 2 * yy) / 32)
    np.testing.assert_allclose(whiten(grating), grating / grating.std(), atol=1e-10)
    np.testing.assert_array_equal(whiten(np.full((8, 8), 0.3)), 0.0)  # no contrast: nothing to whiten


def test_whiten_flattens_a_one_over_f_spectrum():
    rng = np.random.default_rng(3)
    n = 128
    f = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :])
    amplitude = np.divide(1.0, f, out=np.zeros_like(f), where=f > 0)
    image = np.real(np.fft.ifft2(amplitude * np.exp(2j * np.pi * rng.random((n, n)))))
    spectrum = np.abs(np.fft.fft2(whiten(image, cutoff=0.5)))
    low, mid = (f > 0.02) & (f < 0.05), (f > 0.1) & (f < 0.15)
    before = np.abs(np.fft.fft2(image))
    assert before[low].mean() / before[mid].mean() > 2.5  # 1/f: low frequencies dominate
    assert 0.8 < spectrum[low].mean() / spectrum[mid].mean() < 1.25  # whitened: about flat


def test_whiten_refuses_bad_input():
    with pytest.raises(InputError, match="cutoff"):
        whiten(np.ones((8, 8)), cutoff=0.7)
    with pytest.raises(InputError, match="images"):
        whiten(np.ones((1, 8)))


# --- image folders -----------------------------------------------------------------------------


def _save(path: Path, pixels: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **kw)
    return path


def test_folder_reads_png_and_jpeg_recursively_in_sorted_order(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    rgb = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    flat = np.zeros((16, 16, 3), np.uint8) + np.array([200, 40, 90], np.uint8)
    _save(tmp_path / "b_grey.png", grey)
    _save(tmp_path / "sub" / "deeper" / "a_rgb.png", rgb)
    _save(tmp_path / "c_flat.JPG", flat, quality=95)
    _save(tmp_path / ".hidden.png", grey)  # hidden: left out
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_image_folder(tmp_path)
    assert [img.shape for img in images] == [(10, 12), (16, 16), (9, 7)]  # b_grey, c_flat, sub/deeper/a_rgb
    assert all(img.dtype == np.float64 for img in images)
    np.testing.assert_allclose(images[0], grey / 255.0, atol=1e-12)
    # Rec. 601 luminance, computed here from the raw bytes of the lossless PNG
    np.testing.assert_allclose(images[2], rgb @ np.array([0.299, 0.587, 0.114]) / 255.0, atol=1e-12)
    luminance = (0.299 * 200 + 0.587 * 40 + 0.114 * 90) / 255.0
    np.testing.assert_allclose(images[1], luminance, atol=3 / 255)  # JPEG is lossy, a flat colour nearly exact
    assert len(load_image_folder(tmp_path, max_images=2)) == 2


def test_folder_in_colour_is_channels_first(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    _save(tmp_path / "x.png", rgb)
    _save(tmp_path / "y.png", rgb[..., 0])
    colour, grey_as_rgb = load_image_folder(tmp_path, grey=False)
    np.testing.assert_allclose(colour, np.moveaxis(rgb, -1, 0) / 255.0, atol=1e-12)
    np.testing.assert_allclose(grey_as_rgb, np.repeat(rgb[None, ..., 0], 3, axis=0) / 255.0, atol=1e-12)


def test_natural_images_of_a_folder_feed_the_patch_sampler(tmp_path):
    img = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    _save(tmp_path / "photo.png", img)
    images = natural_images(tmp_path)
    assert len(images) == 1
    np.testing.assert_array_equal(
        natural_patches(5, 8, images=images, rng=0), natural_patches(5, 8, images=[img / 255.0], rng=0)
    )


def test_an_empty_folder_is_refused_by_name(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(InputError, match=r"no readable images in .*looked for \*\.png") as info:
        load_image_folder(tmp_path)
    assert info.value.argument == "data_dir" and str(tmp_path) in str(info.value)
    with pytest.raises(InputError, match="does not exist") as info:
        natural_images(tmp_path / "absent")
    assert info.value.argument == "data_dir"


def test_a_folder_of_broken_files_is_refused_and_the_files_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable.*broken\.png.*empty\.jpg"):
        with pytest.raises(InputError, match="2 candidate file.*none readable") as info:
            load_image_folder(tmp_path)
    assert info.value.argument == "data_dir" and str(tmp_path) in str(info.value)
    # beside a good image, a broken one is skipped with the warning and the good one read
    _save(tmp_path / "good.png", np.full((4, 4), 255, np.uint8))
    with pytest.warns(UserWarning, match="broken.png"):
        images = load_image_folder(tmp_path)
    assert len(images) == 1 and images[0].max() == 1.0


def test_labelled_folder_numbers_classes_by_sorted_subfolder(tmp_path):
    left_right = np.zeros((4, 8), np.uint8)
    left_right[:, 2:6] = np.arange(4, dtype=np.uint8)[None, :] * 60  # the centre 4 x 4 holds the content
    _save(tmp_path / "zebra" / "1.png", left_right)
    _save(tmp_path / "zebra" / "2.png", left_right)
    _save(tmp_path / "ant" / "big" / "1.jpeg", np.full((20, 20, 3), 128, np.uint8))
    (tmp_path / "empty_class").mkdir()
    images, labels, classes = load_labelled_folder(tmp_path, 4)
    assert classes == ["ant", "zebra"]
    np.testing.assert_array_equal(labels, [0, 1, 1])
    assert images.shape == (3, 1, 4, 4) and images.dtype == np.float32
    # a 4 x 8 image to 4 x 4: the centre square, not squeezed
    np.testing.assert_allclose(images[1, 0], left_right[:, 2:6] / 255.0, atol=1e-6)
    np.testing.assert_allclose(images[0], 128 / 255.0, atol=2 / 255)
    colour, _, _ = load_labelled_folder(tmp_path, (4, 6), grey=False, max_per_class=1)
    assert colour.shape == (2, 3, 4, 6)
    with pytest.raises(InputError, match="no class subfolder") as info:
        load_labelled_folder(tmp_path / "empty_class", 4)
    assert info.value.argument == "data_dir"


# --- Fashion-MNIST -----------------------------------------------------------------------------


def _idx(arr: np.ndarray) -> bytes:
    """An IDX file written by hand (independent of the reader)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + arr.tobytes()


def _write_fake_fashion(directory: Path, *, gz: bool = True) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for seed, split in enumerate(("train", "test")):
        rng = np.random.default_rng(seed + 10)
        n = 6 if split == "train" else 4
        arrays = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8))
        for stem, arr in zip(datasets.MNIST_FILES[split], arrays):
            data = _idx(arr)
            (directory / (f"{stem}.gz" if gz else stem)).write_bytes(gzip.compress(data, mtime=0) if gz else data)
        out[split] = arrays
    return out


@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_fashion_mnist_reads_a_synthetic_idx_set(tmp_path, gz):
    fake = _write_fake_fashion(tmp_path, gz=gz)
    for split in ("train", "test"):
        images, labels = load_fashion_mnist(tmp_path, split=split)
        assert images.shape == (len(fake[split][1]), 1, 28, 28) and images.dtype == np.float32
        np.testing.assert_array_equal(images[:, 0] * 255, fake[split][0])
        np.testing.assert_array_equal(labels, fake[split][1])
        via_cli_name = load_dataset("fashion-mnist", split, data_dir=tmp_path)
        np.testing.assert_array_equal(via_cli_name[1], labels)
    assert len(datasets.FASHION_CLASSES) == 10


def test_fashion_mnist_missing_files_say_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("V1SIM_DATA", str(tmp_path / "root"))
    with pytest.raises(FileNotFoundError, match=r"Fashion-MNIST train files not found.*fashion-mnist"):
        load_fashion_mnist()
    assert datasets.default_cache_dir("fashion-mnist") == tmp_path / "root" / "fashion-mnist"


def test_fashion_mnist_refuses_labels_beyond_nine(tmp_path):
    _write_fake_fashion(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.array([1, 2, 10, 3], np.uint8)))
    with pytest.raises(ValueError, match=r"classes 0\.\.9, found 10"):
        load_fashion_mnist(tmp_path, split="test")


@pytest.fixture
def fashion_server(tmp_path, monkeypatch):
    """A local HTTP server whose 'mirror/' holds a synthetic Fashion-MNIST under the real file names."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    www = tmp_path / "www"
    fake = _write_fake_fashion(www / "mirror")
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setattr(fashion_files, "FASHION_MIRRORS", (f"http://127.0.0.1:{httpd.server_address[1]}/mirror/",))
    yield www / "mirror", fake
    httpd.shutdown()
    httpd.server_close()


def test_fashion_download_refuses_a_file_with_the_wrong_checksum(fashion_server, tmp_path):
    # the synthetic files are not the published ones: the real SHA-256 table refuses them, and nothing is written
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="SHA-256 mismatch: expected 346e55b9") as info:
        load_fashion_mnist(download=True, cache_dir=cache, split="test")
    assert "Fashion-MNIST" in str(info.value) and "no file was written" in str(info.value)
    assert not cache.exists() or not any(cache.iterdir())


def test_fashion_download_lands_files_whose_checksum_matches(fashion_server, tmp_path, monkeypatch):
    mirror, fake = fashion_server
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mirror.iterdir()}
    monkeypatch.setattr(fashion_files, "FASHION_SHA256", digests)
    cache = tmp_path / "cache"
    _, labels = load_dataset("fashion-mnist", "test", download=True, cache_dir=cache)
    np.testing.assert_array_equal(labels, fake["test"][1])
    assert sorted(p.name for p in cache.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def _shared_fashion() -> Path | None:
    for base in (REPO / "shared", REPO.parent / "shared"):
        d = base / "data" / "fashion-mnist"
        if all((d / name).is_file() for name in datasets.FASHION_SHA256):
            return d
    return None


@pytest.mark.skipif(_shared_fashion() is None, reason="shared/data/fashion-mnist (the original files) is not present")
def test_real_fashion_mnist_files_match_the_published_checksums():
    d = _shared_fashion()
    for name, digest in datasets.FASHION_SHA256.items():
        assert hashlib.sha256((d / name).read_bytes()).hexdigest() == digest, name
    images, labels = load_fashion_mnist(d, split="test")
    assert images.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 1000))


def test_load_dataset_refuses_unlabelled_images_with_the_way_out():
    with pytest.raises(InputError, match=r"unlabelled photographs.*natural-image models.*fashion-mnist") as info:
        load_dataset("images")
    assert info.value.argument == "name"


# --- augmentation ------------------------------------------------------------------------------


def _shifted(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Naive oracle: ``img`` (C, H, W) moved down by dy and right by dx, zero fill."""
    out = np.zeros_like(img)
    h, w = img.shape[-2:]
    for r in range(h):
        for c in range(w):
            if 0 <= r - dy < h and 0 <= c - dx < w:
                out[:, r, c] = img[:, r - dy, c - dx]
    return out


def test_augment_without_options_is_a_copy():
    x = np.random.default_rng(0).random((3, 2, 5, 6))
    out = augment(x, rng=0)
    np.testing.assert_array_equal(out, x)
    assert out is not x and out.dtype == np.float64
    assert augment(np.ones((1, 1, 3, 3), np.uint8), 0).dtype == np.float32


def test_augment_flips_about_half_and_is_deterministic_for_a_seed():
    x = np.random.default_rng(1).random((400, 1, 4, 5)).astype(np.float32)
    out = augment(x, rng=3, flip=True)
    kept = np.all(out == x, axis=(1, 2, 3))
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(kept ^ flipped)  # each image exactly one of the two
    assert 150 < flipped.sum() < 250
    np.testing.assert_array_equal(augment(x, rng=3, flip=True), out)
    assert not np.array_equal(augment(x, rng=4, flip=True), out)


def test_augment_shift_moves_each_image_with_zero_fill():
    rng = np.random.default_rng(2)
    n, h, w, s = 300, 7, 9, 2
    x = np.zeros((n, 2, h, w))
    x[:, 0, h // 2, w // 2] = 1.0  # a marker that reveals each image's shift
    x[:, 1] = rng.random((n, h, w)) + 0.5
    out = augment(x, rng=5, shift=s)
    seen = set()
    for img, orig in zip(out, x):
        r, c = np.argwhere(img[0] == 1.0)[0]
        dy, dx = r - h // 2, c - w // 2
        assert abs(dy) <= s and abs(dx) <= s
        np.testing.assert_array_equal(img, _shifted(orig, dy, dx))
        seen.add((dy, dx))
    assert len(seen) == (2 * s + 1) ** 2  # every shift in range occurs


def test_augment_crop_takes_windows_at_every_position():
    h, w = 6, 8
    coords = np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w)  # value = row * w + col
    x = np.repeat(coords, 200, axis=0)
    out = augment(x, rng=1, crop=(4, 5))
    assert out.shape == (200, 1, 4, 5)
    tops, lefts = out[:, 0, 0, 0] // w, out[:, 0, 0, 0] % w
    for img, t, lft in zip(out, tops.astype(int), lefts.astype(int)):
        np.testing.assert_array_equal(img, x[0, :, t : t + 4, lft : lft + 5])
    assert set(tops.astype(int)) == set(range(3)) and set(lefts.astype(int)) == set(range(4))


def test_augment_everything_at_once_and_bad_arguments():
    x = np.random.default_rng(3).random((5, 3, 10, 10)).astype(np.float32)
    a = augment(x, np.random.default_rng(9), flip=True, shift=2, crop=8)
    b = augment(x, np.random.default_rng(9), flip=True, shift=2, crop=8)
    assert a.shape == (5, 3, 8, 8) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    for kwargs, argument in (
        (dict(crop=11), "crop"),
        (dict(shift=10), "shift"),
        (dict(shift=-1), "shift"),
        (dict(flip="yes"), "flip"),
    ):
        with pytest.raises((ValueError, TypeError)) as info:
            augment(x, 0, **kwargs)
        assert info.value.argument == argument
    with pytest.raises(InputError, match="images"):
        augment(x[0], 0)
