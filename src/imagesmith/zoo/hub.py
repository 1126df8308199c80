"""Download optional big weights: URL + sha256 + local cache. Never needed by the defaults.

Shipped defaults live inside the package (``imagesmith/zoo``). Weights too big to ship (or not
ours to ship, e.g. ImageNet backbones for perceptual losses) are fetched once into the cache
(``$IMAGESMITH_CACHE`` or ``~/.cache/imagesmith``), checked against their sha256, and reused. On
a machine without internet, put the file in the cache folder by hand; the hash is still checked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from imagesmith.errors import UserError
from imagesmith.zoo import sha256_file

__all__ = ["cache_dir", "download"]


def cache_dir() -> Path:
    return Path(os.environ.get("IMAGESMITH_CACHE") or Path.home() / ".cache" / "imagesmith")


def download(
    url: str,
    sha256: str,
    filename: str | None = None,
    cache: Path | None = None,
    timeout: float = 60.0,
) -> Path:
    """Return the cached file for ``url``, downloading it first if needed.

    The download goes to a temp file in the cache folder, is hashed, and is renamed into place
    only when its sha256 matches, so a broken or tampered download never lands in the cache.
    """
    folder = Path(cache) if cache is not None else cache_dir()
    name = filename or Path(urlparse(url).path).name
    if not name:
        raise ValueError(f"cannot derive a file name from {url!r}; pass filename=")
    target = folder / name
    sha256 = sha256.lower()
    if target.is_file():
        if sha256_file(target) == sha256:
            return target
        raise UserError(
            f"{target}: cached file does not match its sha256; delete it to re-download"
        )
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    shutil.copyfileobj(response, out, 1 << 20)
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                raise UserError(
                    f"could not download {url} ({reason}); without internet, place the file "
                    f"at {target} by hand"
                ) from None
        got = sha256_file(tmp)
        if got != sha256:
            raise UserError(f"{url}: sha256 {got} does not match the expected {sha256}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
