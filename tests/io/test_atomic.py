import pytest

from imagesmith.io.atomic import atomic_write


def test_atomic_write_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    atomic_write(target, lambda p: p.write_text("one"))
    assert target.read_text() == "one"

    def broken(p):
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]
