"""The consumer's tools refuse bad input clearly and never overwrite a key."""

from typer.testing import CliRunner

from longshu.cli import app
from longshu.sharing.keyfile import read_key


def test_keygen_never_overwrites_and_a_bad_key_file_is_refused(tmp_path, settings):
    runner = CliRunner()
    key = tmp_path / "dept.key"
    made = runner.invoke(app, ["sharing", "keygen", str(key)])
    assert made.exit_code == 0 and key.stat().st_mode & 0o777 == 0o600
    before = key.read_text()
    again = runner.invoke(app, ["sharing", "keygen", str(key)])
    assert again.exit_code != 0 and key.read_text() == before
    assert read_key(key).public.public_bytes.hex() in made.output

    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    refused = runner.invoke(
        app, ["sharing", "open-package", str(tmp_path), "--key", str(bad), "--out",
              str(tmp_path / "rows.parquet")],
    )  # fmt: skip
    assert refused.exit_code == 2 and "bad.key" in refused.output
    assert not (tmp_path / "rows.parquet").exists()
