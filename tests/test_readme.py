"""The README's two opening commands are the contract with a new user; CI runs the second."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("```bash")
    end = lines.index("```", start + 1)
    return [line for line in lines[start + 1:end] if line and not line.startswith("#")]


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    install_and_fit, install_and_test = _commands()
    assert "kiss-automl fit datasets/" in install_and_fit
    assert install_and_test.endswith("pytest")
    assert install_and_test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_fit_command_uses_a_bundled_csv():
    install_and_fit = _commands()[0]
    csv = next(word for word in install_and_fit.split() if word.startswith("datasets/"))
    assert (ROOT / csv).is_file()
