import gzip
import struct

import numpy as np
import pytest

from imagesmith.data.idx import find_idx_labels, find_idx_pair, load_idx_pair, read_idx
from imagesmith.errors import UserError

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C}
_CODES.update({np.float32: 0x0D, np.float64: 0x0E})


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as an IDX file (big-endian values)."""
    code = _CODES[array.dtype.type]
    head = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz=None):
    data = idx_bytes(array)
    gz = str(path).endswith(".gz") if gz is None else gz
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_ubyte_images_and_labels(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 7, 6), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    suffix = ".gz" if gz else ""
    ip = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images)
    lp = write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels)
    out = read_idx(ip)
    assert out.dtype == np.uint8 and out.shape == (5, 7, 6) and np.array_equal(out, images)
    assert out.flags.writeable
    im, lab = load_idx_pair(ip, lp)
    assert np.array_equal(im, images) and lab.dtype == np.int64 and lab.tolist() == [3, 1, 4, 1, 5]
    im, lab = load_idx_pair(ip, lp, limit=2)
    assert im.shape == (2, 7, 6) and lab.tolist() == [3, 1]
    assert load_idx_pair(ip)[1] is None


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_other_types_are_big_endian_and_come_back_native(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    out = read_idx(write_idx(tmp_path / "x.idx", a, gz=False))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and np.array_equal(out, a)


def test_gzip_told_by_content_not_name(tmp_path):
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    p = write_idx(tmp_path / "plain-name-idx2-ubyte", a, gz=True)
    assert np.array_equal(read_idx(p), a)


def test_bad_magic(tmp_path):
    p = tmp_path / "bad-images-idx3-ubyte"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UserError, match=r"bad-images-idx3-ubyte: not an IDX file \(magic"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 5]))  # unknown type code
    with pytest.raises(UserError, match="not an IDX file"):
        read_idx(p)
    p.write_bytes(b"\x00\x00")
    with pytest.raises(UserError, match="only 2 bytes"):
        read_idx(p)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_header_and_data(tmp_path, gz):
    data = idx_bytes(np.zeros((4, 5, 5), dtype=np.uint8))
    p = tmp_path / "t-images-idx3-ubyte"
    p.write_bytes(gzip.compress(data[:10]) if gz else data[:10])
    with pytest.raises(UserError, match="t-images-idx3-ubyte: the IDX header is truncated"):
        read_idx(p)
    p.write_bytes(gzip.compress(data[:-7]) if gz else data[:-7])
    with pytest.raises(UserError, match="t-images-idx3-ubyte: the IDX data is truncated"):
        read_idx(p)
    assert read_idx(p, limit=3).shape == (3, 5, 5)  # what is there can still be read


def test_extra_data_is_a_size_mismatch(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    p.write_bytes(idx_bytes(np.arange(3, dtype=np.uint8)) + b"\x00\x01")
    with pytest.raises(UserError, match="x-idx1-ubyte: size mismatch"):
        read_idx(p)


def test_corrupt_gzip_and_missing_file(tmp_path):
    p = tmp_path / "c-images-idx3-ubyte.gz"
    good = gzip.compress(idx_bytes(np.zeros((50, 8, 8), dtype=np.uint8)))
    p.write_bytes(good[:20] + bytes(len(good) - 20))
    with pytest.raises(UserError, match="c-images-idx3-ubyte.gz"):
        read_idx(p)
    with pytest.raises(UserError, match="no such file"):
        read_idx(tmp_path / "missing-idx3-ubyte")


def test_pair_checks(tmp_path):
    ip = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 2, 2), dtype=np.uint8))
    lp = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, dtype=np.uint8))
    with pytest.raises(UserError, match="4 labels for 3 images"):
        load_idx_pair(ip, lp)
    fp = write_idx(tmp_path / "f-images-idx3-ubyte", np.zeros((3, 2, 2), dtype=np.float32))
    with pytest.raises(UserError, match="expected uint8 images"):
        load_idx_pair(fp)
    bad = write_idx(tmp_path / "b-labels-idx2-ubyte", np.zeros((3, 2), dtype=np.uint8))
    with pytest.raises(UserError, match="1-D integer labels"):
        load_idx_pair(ip, bad)


def test_find_pair_by_split(tmp_path):
    im = np.zeros((1, 2, 2), dtype=np.uint8)
    lab = np.zeros(1, dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", im)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", lab)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", lab)  # as in mnist_test: no train images
    assert find_idx_pair(tmp_path) == (
        tmp_path / "t10k-images-idx3-ubyte.gz",
        tmp_path / "t10k-labels-idx1-ubyte.gz",
    )
    with pytest.raises(UserError, match=r"no train images IDX file .*t10k-images-idx3-ubyte.gz"):
        find_idx_pair(tmp_path, "train")
    write_idx(tmp_path / "train-images-idx3-ubyte", im)  # not gzipped, its labels are
    assert find_idx_pair(tmp_path) == (
        tmp_path / "train-images-idx3-ubyte",
        tmp_path / "train-labels-idx1-ubyte.gz",
    )
    assert find_idx_pair(tmp_path, "test")[0].name == "t10k-images-idx3-ubyte.gz"
    assert find_idx_labels(tmp_path / "t10k-images-idx3-ubyte.gz").name.startswith("t10k-labels")
    with pytest.raises(UserError, match="split must be"):
        find_idx_pair(tmp_path, "val")
