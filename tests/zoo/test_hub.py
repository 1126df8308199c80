import hashlib

import pytest

from imagesmith.errors import UserError
from imagesmith.zoo.hub import download


@pytest.fixture
def remote(tmp_path):
    src = tmp_path / "remote" / "weights.bin"
    src.parent.mkdir()
    src.write_bytes(b"\x00\x01weights" * 1000)
    return src, hashlib.sha256(src.read_bytes()).hexdigest()


def test_download_verifies_and_caches(remote, tmp_path):
    src, digest = remote
    cache = tmp_path / "cache"
    path = download(src.as_uri(), digest, cache=cache)
    assert path == cache / "weights.bin" and path.read_bytes() == src.read_bytes()
    src.unlink()  # second call must come from the cache, not the network
    assert download(src.as_uri(), digest.upper(), cache=cache) == path


def test_bad_hash_leaves_nothing(remote, tmp_path):
    src, _ = remote
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match="does not match"):
        download(src.as_uri(), "0" * 64, cache=cache)
    assert list(cache.iterdir()) == []


def test_unreachable_url_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="could not download"):
        download((tmp_path / "missing.bin").as_uri(), "0" * 64, cache=tmp_path / "c")


def test_tampered_cache_is_refused(remote, tmp_path):
    src, digest = remote
    cache = tmp_path / "cache"
    path = download(src.as_uri(), digest, cache=cache)
    path.write_bytes(b"evil")
    with pytest.raises(UserError, match="cached file"):
        download(src.as_uri(), digest, cache=cache)


def test_env_cache_dir(monkeypatch, tmp_path, remote):
    src, digest = remote
    monkeypatch.setenv("IMAGESMITH_CACHE", str(tmp_path / "envcache"))
    assert download(src.as_uri(), digest).parent == tmp_path / "envcache"
