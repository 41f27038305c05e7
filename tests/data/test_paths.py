"""Finding the data root from a scratch clone of a local checkout."""

from adactx.data.paths import local_origin


def _repo(tmp_path, url: str | None):
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    lines = ["[core]", "\tbare = false", '[remote "upstream"]', "\turl = /nowhere"]
    if url is not None:
        lines += ['[remote "origin"]', f"\turl = {url}", "\tfetch = +refs/heads/*:refs/remotes/origin/*"]
    (repo / ".git" / "config").write_text("\n".join(lines) + "\n")
    return repo


def test_local_origin_is_the_checkout_a_clone_came_from(tmp_path):
    checkout = tmp_path / "work" / "main"
    checkout.mkdir(parents=True)
    assert local_origin(_repo(tmp_path, str(checkout))) == checkout.resolve()
    assert local_origin(_repo(tmp_path, f"file://{checkout}")) == checkout.resolve()


def test_no_local_origin_for_remote_urls_missing_dirs_or_no_git(tmp_path):
    assert local_origin(_repo(tmp_path, "https://github.com/x/adactx.git")) is None
    assert local_origin(_repo(tmp_path, "git@github.com:x/adactx.git")) is None
    assert local_origin(_repo(tmp_path, str(tmp_path / "gone"))) is None
    assert local_origin(_repo(tmp_path, None)) is None
    assert local_origin(tmp_path / "plain") is None
